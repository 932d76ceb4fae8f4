from datetime import datetime

import pytest
from sqlalchemy import select

from blueprints.accounts.models import Notice, RoleAssignment, Unit, User
from common.access import Role
from common.mail import OutboxMail
from extensions import db


def test_admin_creates_a_unit_and_bad_input_keeps_values(app, client, auth, make_user):
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    auth.login("sirpa")
    bad = client.post("/admin/units/new", data={"code": "GIE", "name": "Gieten", "kind": "branch", "branch_code": "94"})
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "A branch code has four digits." in body and 'value="Gieten"' in body
    ok = client.post("/admin/units/new",
                     data={"code": "GIE", "name": "Gieten", "kind": "branch", "branch_code": "9428"})
    assert ok.status_code == 302
    with app.app_context():
        unit = db.session.scalar(db.select(Unit).where(Unit.code == "GIE"))
        assert (unit.name, unit.kind, unit.branch_code) == ("Gieten", "branch", "9428")


def test_admin_creates_a_user_who_gets_a_welcome_link(app, client, auth, make_user, make_unit):
    library = make_unit()
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    auth.login("sirpa")
    response = client.post(
        "/admin/users/new",
        data={"username": "uusi", "display_name": "Uusi Ihminen", "email": "uusi@example.org", "language": "sv"}
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "uusi"))
        assert user.password_hash is None and user.language == "sv"
        welcome = db.session.scalar(db.select(OutboxMail))
        assert welcome.recipient == "uusi@example.org" and "/password/reset/" in welcome.body
        user_id = user.id
    granted = client.post(f"/admin/users/{user_id}/roles", data={"role-role": "registrar", "role-unit": library})
    assert granted.status_code == 302
    refused = client.post(f"/admin/users/{user_id}/roles", data={"role-role": "guide", "role-unit": 0})
    assert refused.status_code == 422
    assert "This role is held in a unit: choose one." in refused.get_data(as_text=True)
    with app.app_context():
        assert [(a.role, a.unit_id) for a in db.session.get(User, user_id).role_assignments] == [("registrar", library)]


def test_units_without_branch_codes_do_not_clash_but_a_taken_code_does(app, client, auth, make_user, make_unit):
    make_unit(code="LIB1", name="Pääkirjasto")
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    auth.login("sirpa")
    second = client.post("/admin/units/new",
                         data={"code": "LIB2", "name": "Lähikirjasto", "kind": "library", "branch_code": ""})
    assert second.status_code == 302
    taken = client.post("/admin/units/new",
                        data={"code": "LIB1", "name": "Kolmas", "kind": "library", "branch_code": ""})
    assert taken.status_code == 422
    body = taken.get_data(as_text=True)
    assert "Another unit has this code or branch code." in body and 'value="Kolmas"' in body
    with app.app_context():
        lib2 = db.session.scalar(db.select(Unit).where(Unit.code == "LIB2"))
        assert [u.code for u in db.session.scalars(db.select(Unit).order_by(Unit.code))] == ["LIB1", "LIB2"]
    renamed = client.post(f"/admin/units/{lib2.id}",
                          data={"code": "LIB2", "name": "Uusi nimi", "kind": "library", "branch_code": "",
                                "active": "y"})
    assert renamed.status_code == 302


def test_a_username_taken_by_another_account_is_refused_on_edit(app, client, auth, make_user):
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    other = make_user("olli", (Role.SERVICE_ADMIN, None))
    auth.login("sirpa")
    response = client.post(f"/admin/users/{other}",
                           data={"username": "SIRPA", "display_name": "Olli", "email": "olli@example.org",
                                                          "language": "fi", "active": "y"})
    assert response.status_code == 422
    assert "This username is taken." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, other).username == "olli"


def test_taken_username_is_refused_at_the_field(client, auth, make_user):
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    auth.login("sirpa")
    response = client.post("/admin/users/new",
                           data={"username": "sirpa", "display_name": "X", "email": "x@example.org", "language": "fi"})
    assert response.status_code == 422
    assert "This username is taken." in response.get_data(as_text=True)


def test_main_user_manages_registrars_only_in_own_units(app, client, auth, make_user, make_unit):
    mine, theirs = make_unit(name="Oma kirjasto"), make_unit(name="Muu kirjasto")
    make_user("paula", (Role.MAIN_USER, mine))
    make_user("other", (Role.REGISTRAR, theirs))
    auth.login("paula")
    page = client.get("/registrars").get_data(as_text=True)
    assert "Oma kirjasto" in page and "Muu kirjasto" not in page
    # Adding to a unit that is not mine is not even a choice.
    refused = client.post("/registrars",
                          data={"unit": theirs, "username": "x1", "display_name": "X", "email": "x@example.org",
                                "language": "fi"})
    assert refused.status_code == 422
    added = client.post("/registrars",
                        data={"unit": mine, "username": "uusi", "display_name": "Uusi", "email": "uusi@example.org",
                              "language": "fi"})
    assert added.status_code == 302
    with app.app_context():
        mine_assignment = db.session.scalar(db.select(RoleAssignment).join(User).where(User.username == "uusi"))
        theirs_assignment = db.session.scalar(db.select(RoleAssignment).join(User).where(User.username == "other"))
        ids = mine_assignment.id, theirs_assignment.id
    assert client.post(f"/registrars/{ids[1]}/remove").status_code == 404
    assert client.post(f"/registrars/{ids[0]}/remove").status_code == 302
    with app.app_context():
        assert db.session.get(RoleAssignment, ids[0]) is None
        assert db.session.get(RoleAssignment, ids[1]) is not None


def test_audit_log_is_filtered_and_append_only(app, client, auth, make_user):
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    make_user("riikka")
    auth.login("riikka", "wrong")
    auth.login("sirpa")
    page = client.post("/admin/audit", data={"action": "login.failed"}).get_data(as_text=True)
    assert "login.failed" in page and "1 events" in page
    from common.audit import AuditEvent

    with app.app_context():
        event = db.session.scalar(db.select(AuditEvent))
        event.action = "tampered"
        try:
            db.session.commit()
        except PermissionError:
            db.session.rollback()
        else:
            raise AssertionError("an audit event could be changed")


def test_notice_with_past_end_time_is_refused(client, auth, make_user):
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    auth.login("sirpa")
    response = client.post("/admin/notices", data={"text": "Huoltokatko", "ends_at": "2001-01-01T10:00"})
    assert response.status_code == 422
    assert "The end time must be in the future." in response.get_data(as_text=True)
    assert "Huoltokatko" in response.get_data(as_text=True)


@pytest.mark.parametrize(("typed", "stored"), [
    ("2030-01-15T12:00", datetime(2030, 1, 15, 10, 0)),  # winter: UTC+2
    ("2030-07-15T12:00", datetime(2030, 7, 15, 9, 0)),  # summer: UTC+3
])
def test_a_notices_end_typed_in_helsinki_time_is_stored_as_that_moment(client, auth, make_user, app, typed, stored):
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    auth.login("sirpa")
    assert client.post("/admin/notices", data={"text": "Huoltokatko", "ends_at": typed}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Notice.ends_at)) == stored


def test_a_notice_in_force_is_on_full_pages_and_in_its_banner_partial(client, auth, make_user, make_unit):
    library = make_unit()
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    make_user("riikka", (Role.REGISTRAR, library))
    auth.login("sirpa")
    client.post("/admin/notices", data={"text": "Celianet huoltokatko"})
    auth.logout()
    auth.login("riikka")
    assert "Celianet huoltokatko" in client.get("/").get_data(as_text=True)
    assert "Celianet huoltokatko" in client.get("/notices/banner").get_data(as_text=True)
    assert "Celianet huoltokatko" in client.get("/password").get_data(as_text=True)


def test_a_notice_for_some_areas_and_units_shows_only_there(app, client, auth, make_user, make_unit):
    """The Celia outage banner is not on the Dutch counter's e-book pages; a unit's notice only for its staff."""
    from blueprints.accounts.models import Notice, UnitKind

    library, other = make_unit(name="Kirjasto"), make_unit(name="Toinen")
    branch = make_unit(UnitKind.BRANCH, name="Gieten", branch_code="9428")
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    make_user("riikka", (Role.REGISTRAR, library))
    make_user("toinen", (Role.REGISTRAR, other))
    make_user("balie", (Role.COUNTER_STAFF, branch), (Role.REGISTRAR, library))
    auth.login("sirpa")
    form = client.get("/admin/notices").get_data(as_text=True)
    assert 'value="registration"' in form and f'value="{library}"' in form
    assert client.post("/admin/notices",
                       data={"text": "Celianet huoltokatko", "areas": ["registration"]}).status_code == 302
    assert client.post("/admin/notices",
                       data={"text": "Kirjaston oma tiedote", "units": [str(library)]}).status_code == 302
    with app.app_context():
        targeted = db.session.scalar(db.select(Notice).where(Notice.text == "Kirjaston oma tiedote"))
        assert [u.id for u in targeted.units] == [library] and targeted.areas == ""
    auth.logout()

    auth.login("balie")
    assert "Celianet huoltokatko" not in client.get("/ebook/").get_data(as_text=True)
    assert "Celianet huoltokatko" not in client.get("/notices/banner?area=ebook").get_data(as_text=True)
    assert "Celianet huoltokatko" in client.get("/registration/", follow_redirects=True).get_data(as_text=True)
    assert "Celianet huoltokatko" in client.get("/notices/banner?area=registration").get_data(as_text=True)
    assert 'area=ebook' in client.get("/ebook/").get_data(as_text=True)  # the banner re-fetches for its page's area
    assert "Kirjaston oma tiedote" in client.get("/ebook/").get_data(as_text=True)  # balie works for the library too
    auth.logout()

    auth.login("toinen")
    page = client.get("/registration/", follow_redirects=True).get_data(as_text=True)
    assert "Celianet huoltokatko" in page and "Kirjaston oma tiedote" not in page
    assert "Kirjaston oma tiedote" not in client.get("/notices/banner?area=registration").get_data(as_text=True)


def test_a_main_user_adds_only_staff_who_belong_to_the_unit(app, client, auth, make_user, make_unit):
    mine, theirs = make_unit(name="Oma kirjasto"), make_unit(name="Muu kirjasto")
    make_user("paula", (Role.MAIN_USER, mine))
    make_user("agent", (Role.CHAT_AGENT, mine), email="agent@example.org")
    make_user("other", (Role.REGISTRAR, theirs), email="other@example.org")
    make_user("loose", email="loose@example.org")  # no unit yet
    auth.login("paula")

    def add(username):
        return client.post("/registrars", data={"unit": mine, "username": username, "display_name": username.title(),
                                                "email": f"{username}@example.org", "language": "fi"})

    for stranger in ("other", "loose"):
        refused = add(stranger)
        assert refused.status_code == 422 and "does not belong to Oma kirjasto" in refused.text
    assert add("agent").status_code == 302
    with app.app_context():
        roles = {(u.username, a.role, a.unit_id) for u in db.session.scalars(db.select(User))
                 for a in u.role_assignments}
    assert ("agent", Role.REGISTRAR, mine) in roles
    assert ("other", Role.REGISTRAR, mine) not in roles and not any(name == "loose" for name, _r, _u in roles)
