from tests.matrix import ADMIN, MAIN_USER, PUBLIC, STAFF, Access

ADMIN_ONLY = frozenset({ADMIN})
MAIN_USERS = frozenset({ADMIN, MAIN_USER})


def prepare(world):
    from blueprints.accounts.models import Notice
    from extensions import db

    world.extra["registrar_assignment"] = world.users["registrar"].role_assignments[0].id
    notice = Notice(text="Maintenance tonight")
    db.session.add(notice)
    db.session.flush()
    world.extra["notice"] = notice.id


ROUTES = {
    "static": Access(PUBLIC, args=lambda w: {"filename": "css/app.css"}),
    "healthz": Access(PUBLIC),
    "favicon": Access(PUBLIC),
    "accounts.login": Access(PUBLIC, status=302, notes="a logged-in user goes on to the front page"),
    "accounts.forgot_password": Access(PUBLIC),
    "accounts.reset_password": Access(PUBLIC, args=lambda w: {"token": "no-such-token"}, status=410),
    "accounts.reset_password_form": Access(PUBLIC, status=410, notes="no link opened in this browser"),
    "accounts.set_language": Access(PUBLIC, method="POST", data=lambda w: {"language": "en"}),
    "accounts.index": Access(STAFF),
    "accounts.logout": Access(STAFF, method="POST"),
    "accounts.change_password": Access(STAFF),
    "accounts.notice_banner": Access(STAFF),
    "accounts.notices": Access(ADMIN_ONLY),
    "accounts.end_notice": Access(ADMIN_ONLY, method="POST", args=lambda w: {"notice_id": w.extra["notice"]}),
    "accounts.units": Access(ADMIN_ONLY),
    "accounts.edit_unit": Access(ADMIN_ONLY, args=lambda w: {"unit_id": w.units["L"].id}),
    "accounts.users": Access(ADMIN_ONLY),
    "accounts.new_user": Access(ADMIN_ONLY),
    "accounts.user_detail": Access(ADMIN_ONLY, args=lambda w: {"user_id": w.users["nobody"].id}),
    "accounts.grant_role": Access(ADMIN_ONLY, method="POST", args=lambda w: {"user_id": w.users["nobody"].id},
                                  data=lambda w: {"role-role": "guide", "role-unit": w.units["L"].id}),
    "accounts.revoke_role": Access(
        ADMIN_ONLY,
        method="POST",
        args=lambda w: {"user_id": w.users["registrar"].id, "assignment_id": w.extra["registrar_assignment"]},
    ),
    "accounts.unlock_user": Access(ADMIN_ONLY, method="POST", args=lambda w: {"user_id": w.users["nobody"].id}),
    "accounts.end_sessions": Access(ADMIN_ONLY, method="POST", args=lambda w: {"user_id": w.users["nobody"].id}),
    "accounts.send_password_link": Access(ADMIN_ONLY, method="POST", args=lambda w: {"user_id": w.users["nobody"].id}),
    "accounts.registrars": Access(MAIN_USERS),
    "accounts.remove_registrar": Access(
        MAIN_USERS, method="POST", args=lambda w: {"assignment_id": w.extra["registrar_assignment"]}
    ),
    "accounts.audit_log": Access(ADMIN_ONLY),
    "accounts.outbox": Access(ADMIN_ONLY),
}
