from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from blueprints.accounts import bp, service
from blueprints.accounts.forms import (
    NOTICE_AREAS as NOTICE_AREA_CHOICES,
)
from blueprints.accounts.forms import (
    AuditFilterForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    NoticeForm,
    RegistrarForm,
    ResetPasswordForm,
    RoleForm,
    UnitForm,
    UserForm,
    UserSearchForm,
)
from blueprints.accounts.models import (
    CELIA_UNIT_KINDS,
    Notice,
    RoleAssignment,
    Unit,
    User,
)
from common.access import Role, roles_required
from common.clock import utcnow
from common.refusals import Refused
from common.security import exchange_one_time_link, no_referrer
from common.views import local_to_utc, page_of, query_id, render_form, render_refusal, safe_next
from extensions import LANGUAGES, db, limiter, login_manager

login_manager.login_view = "accounts.login"
login_manager.login_message = None


# The working area a page belongs to, by its blueprint: a notice may be for some areas only.
NOTICE_AREAS = {"registration": "registration", "ebook": "ebook", "chat": "chat", "guide": "guide"}


def page_area():
    return NOTICE_AREAS.get(request.blueprint, "accounts")


def notices_for(area):
    return service.notices_in_force(area=area, user=current_user)


@bp.app_template_filter("notice_area_label")
def notice_area_label(area):
    return dict(NOTICE_AREA_CHOICES).get(area, area)


@bp.app_context_processor
def notice_context():
    # Called by base.html only, so partials answering htmx requests skip the query.
    return {"notices_in_force": lambda: notices_for(page_area()), "notice_area": page_area}


@login_manager.user_loader
def load_user(user_id):
    user = service.user_with_roles(int(user_id))
    # A locked or deactivated account loses its open sessions too, as does an ended session.
    if user is None or not user.active or user.is_locked or not service.session_in_force(user):
        return None
    return user


# Pages an expired password still reaches: changing it, leaving, and the site's furniture.
OPEN_WITH_EXPIRED_PASSWORD = {
    "accounts.change_password",
    "accounts.logout",
    "accounts.set_language",
    "accounts.notice_banner",
    "static",
    "favicon",
    "healthz",
}


@bp.before_app_request
def force_expired_password_change():
    if (
        current_user.is_authenticated
        and request.endpoint not in OPEN_WITH_EXPIRED_PASSWORD
        and service.password_expired(current_user)
    ):
        if request.headers.get("HX-Request"):
            abort(403)
        return redirect(url_for("accounts.change_password"))


@bp.route("/")
@login_required
def index():
    return render_template("accounts/index.html")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = service.authenticate(form.username.data, form.password.data)
        except Refused as refusal:
            # A locked registrar is told how to reach the service, which alone unlocks the account.
            locked = refusal.message == service.locked_message()
            return render_refusal("accounts/login.html", refusal, form, locked=locked)
        session.clear()
        login_user(user)
        service.start_session(user)
        return redirect(safe_next(request.args.get("next")) or url_for("accounts.index"))
    return render_form("accounts/login.html", form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    service.record_logout(current_user)
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/language", methods=["POST"])
def set_language():
    language = request.form.get("language")
    if language not in LANGUAGES:
        abort(400)
    if current_user.is_authenticated:
        service.update_user(current_user, language=language)
    else:
        session["language"] = language
    return redirect(safe_next(request.form.get("next")) or url_for("accounts.index"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    form.username_for_rules = current_user.username
    if form.validate_on_submit():
        try:
            service.change_password(current_user, form.current_password.data, form.new_password.data)
        except Refused as refusal:
            return render_refusal("accounts/change_password.html", refusal, form,
                                  expired=service.password_expired(current_user))
        flash(_("Your password has been changed."), "success")
        return redirect(url_for("accounts.index"))
    return render_form(
        "accounts/change_password.html", form, expired=service.password_expired(current_user)
    )


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        service.request_password_reset(form.email.data)
        # The same answer whether or not the address belongs to anyone.
        flash(_("If the address belongs to an account, a link to set a new password is on its way."), "info")
        return redirect(url_for("accounts.login"))
    return render_form("accounts/forgot_password.html", form)


RESET_TOKEN = "password_reset_token"  # the session's key for the link being used


@bp.route("/password/reset/<token>")
def reset_password(token):
    """The mailed link, exchanged at once for the token-free form."""
    return exchange_one_time_link(token, service.valid_reset_token, RESET_TOKEN, "accounts.reset_password_form")


@bp.route("/password/reset", methods=["GET", "POST"])
def reset_password_form():
    """Set the password: the POST uses the link that was opened in this browser."""
    token = session.get(RESET_TOKEN)
    record = service.valid_reset_token(token) if token else None
    if record is None:
        session.pop(RESET_TOKEN, None)
        abort(410)
    form = ResetPasswordForm()
    form.username_for_rules = record.user.username
    if form.validate_on_submit():
        try:
            service.reset_password(record, form.new_password.data)
        except Refused as refusal:
            return no_referrer(render_refusal("accounts/reset_password.html", refusal, form))
        session.pop(RESET_TOKEN, None)
        flash(_("Your password is set. You can log in now."), "success")
        return redirect(url_for("accounts.login"))
    return no_referrer(render_form("accounts/reset_password.html", form))


# --- notices ---------------------------------------------------------------------------


@bp.route("/notices/banner")
@login_required
def notice_banner():
    area = request.args.get("area", "accounts")
    if area not in NOTICE_AREAS.values():
        area = "accounts"
    return render_template("_notice_banner.html", notices=notices_for(area))


@bp.route("/admin/notices", methods=["GET", "POST"])
@roles_required(Role.SERVICE_ADMIN)
def notices():
    form = NoticeForm()
    form.units.choices = [(str(u.id), u.name) for u in service.active_units()]
    if form.validate_on_submit():
        ends_at = local_to_utc(form.ends_at.data) if form.ends_at.data else None
        try:
            service.publish_notice(form.text.data, ends_at, current_user, areas=form.areas.data,
                                   unit_ids=[int(u) for u in form.units.data])
        except Refused as refusal:
            return render_refusal("accounts/notices.html", refusal, form, recent=service.recent_notices(), now=utcnow())
        flash(_("The notice is published."), "success")
        return redirect(url_for("accounts.notices"))
    return render_form("accounts/notices.html", form, recent=service.recent_notices(), now=utcnow())


@bp.route("/admin/notices/<int:notice_id>/end", methods=["POST"])
@roles_required(Role.SERVICE_ADMIN)
def end_notice(notice_id):
    service.end_notice(db.get_or_404(Notice, notice_id))
    flash(_("The notice has ended."), "success")
    return redirect(url_for("accounts.notices"))


# --- units -----------------------------------------------------------------------------


@bp.route("/admin/units")
@roles_required(Role.SERVICE_ADMIN)
def units():
    return render_template("accounts/units.html", units=service.units_by_kind())


@bp.route("/admin/units/new", methods=["GET", "POST"])
@bp.route("/admin/units/<int:unit_id>", methods=["GET", "POST"])
@roles_required(Role.SERVICE_ADMIN)
def edit_unit(unit_id=None):
    unit = db.get_or_404(Unit, unit_id) if unit_id else None
    form = UnitForm(obj=unit)
    if form.validate_on_submit():
        fields = dict(
            code=form.code.data, name=form.name.data, kind=form.kind.data, branch_code=form.branch_code.data or None
        )
        try:
            if unit is None:
                service.create_unit(**fields)
                flash(_("The unit is created."), "success")
            else:
                service.update_unit(unit, active=form.active.data, **fields)
                flash(_("The unit is saved."), "success")
        except Refused as refusal:
            return render_refusal("accounts/unit_form.html", refusal, form, unit=unit)
        return redirect(url_for("accounts.units"))
    return render_form("accounts/unit_form.html", form, unit=unit)


# --- users -----------------------------------------------------------------------------


@bp.route("/admin/users", methods=["GET", "POST"])
@roles_required(Role.SERVICE_ADMIN)
def users():
    form = UserSearchForm()  # by POST only: out of the address and the logs
    search = (form.q.data or "").strip() if form.validate_on_submit() else ""
    return (render_template("accounts/users.html", page=page_of(service.users_matching(search)), form=form),
            422 if form.errors else 200)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles_required(Role.SERVICE_ADMIN)
def new_user():
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = service.create_user(
                form.username.data, form.display_name.data, form.email.data, form.language.data, send_link=True
            )
        except Refused as refusal:
            return render_refusal("accounts/user_new.html", refusal, form)
        flash(_("The account is created and a link to set the password was mailed."), "success")
        return redirect(url_for("accounts.user_detail", user_id=user.id))
    return render_form("accounts/user_new.html", form)


def _role_form():
    form = RoleForm(prefix="role")
    form.unit.choices = [(0, "—")] + [(u.id, f"{u.name} ({u.kind_label})") for u in service.units_by_name()]
    return form


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.SERVICE_ADMIN)
def user_detail(user_id):
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user)
    if form.validate_on_submit():
        try:
            service.update_user(
                user,
                username=form.username.data,
                display_name=form.display_name.data,
                email=form.email.data,
                language=form.language.data,
                active=form.active.data,
            )
        except Refused as refusal:
            return render_refusal("accounts/user_detail.html", refusal, form, user=user, user_form=form,
                                  role_form=_role_form())
        flash(_("The account is saved."), "success")
        return redirect(url_for("accounts.user_detail", user_id=user.id))
    return render_form("accounts/user_detail.html", form, user=user, user_form=form, role_form=_role_form())


@bp.route("/admin/users/<int:user_id>/roles", methods=["POST"])
@roles_required(Role.SERVICE_ADMIN)
def grant_role(user_id):
    user = db.get_or_404(User, user_id)
    role_form = _role_form()
    if role_form.validate_on_submit():
        unit = db.session.get(Unit, role_form.unit.data) if role_form.unit.data else None
        try:
            service.grant_role(user, Role(role_form.role.data), unit)
        except Refused as refusal:
            # The page again with the role form as the form that was sent.
            return render_refusal("accounts/user_detail.html", refusal, role_form, user=user,
                                  user_form=UserForm(obj=user), role_form=role_form)
        flash(_("The role is granted."), "success")
        return redirect(url_for("accounts.user_detail", user_id=user.id))
    return render_template("accounts/user_detail.html", form=role_form, user=user, user_form=UserForm(obj=user),
                           role_form=role_form), 422


@bp.route("/admin/users/<int:user_id>/roles/<int:assignment_id>/revoke", methods=["POST"])
@roles_required(Role.SERVICE_ADMIN)
def revoke_role(user_id, assignment_id):
    assignment = db.get_or_404(RoleAssignment, assignment_id)
    if assignment.user_id != user_id:
        abort(404)
    service.revoke_role(assignment)
    flash(_("The role is removed."), "success")
    return redirect(url_for("accounts.user_detail", user_id=user_id))


@bp.route("/admin/users/<int:user_id>/unlock", methods=["POST"])
@roles_required(Role.SERVICE_ADMIN)
def unlock_user(user_id):
    service.unlock(db.get_or_404(User, user_id))
    flash(_("The account is unlocked."), "success")
    return redirect(url_for("accounts.user_detail", user_id=user_id))


@bp.route("/admin/users/<int:user_id>/end-sessions", methods=["POST"])
@roles_required(Role.SERVICE_ADMIN)
def end_sessions(user_id):
    user = db.get_or_404(User, user_id)
    service.end_all_sessions(user)
    flash(_("%(name)s is logged out everywhere.", name=user.display_name), "success")
    return redirect(url_for("accounts.user_detail", user_id=user_id))


@bp.route("/admin/users/<int:user_id>/password-link", methods=["POST"])
@roles_required(Role.SERVICE_ADMIN)
def send_password_link(user_id):
    user = db.get_or_404(User, user_id)
    service.send_password_link(user)
    flash(_("A link to set a new password was mailed to %(email)s.", email=user.email), "success")
    return redirect(url_for("accounts.user_detail", user_id=user_id))


# --- a main user's registrars ----------------------------------------------------------


def _main_user_units():
    return current_user.units(Role.MAIN_USER, kinds=CELIA_UNIT_KINDS)


@bp.route("/registrars", methods=["GET", "POST"])
@roles_required(Role.MAIN_USER)
def registrars():
    units = _main_user_units()
    form = RegistrarForm()
    form.unit.choices = [(u.id, u.name) for u in units]
    if form.validate_on_submit():
        unit = next(u for u in units if u.id == form.unit.data)
        try:
            service.add_registrar(unit, form.username.data, form.display_name.data, form.email.data, form.language.data)
        except Refused as refusal:
            return render_refusal("accounts/registrars.html", refusal, form, units=units,
                                  assignments=service.registrars_of(units))
        flash(_("%(name)s is now a registrar of %(unit)s.", name=form.display_name.data, unit=unit.name), "success")
        return redirect(url_for("accounts.registrars"))
    return render_form(
        "accounts/registrars.html", form, units=units, assignments=service.registrars_of(units)
    )


@bp.route("/registrars/<int:assignment_id>/remove", methods=["POST"])
@roles_required(Role.MAIN_USER)
def remove_registrar(assignment_id):
    assignment = db.get_or_404(RoleAssignment, assignment_id)
    if assignment.role != Role.REGISTRAR or not current_user.holds(Role.MAIN_USER, assignment.unit_id):
        abort(404)  # as for one that does not exist
    name, unit = assignment.user.display_name, assignment.unit.name
    service.revoke_role(assignment)
    flash(_("%(name)s is no longer a registrar of %(unit)s.", name=name, unit=unit), "success")
    return redirect(url_for("accounts.registrars"))


# --- audit log and outbox --------------------------------------------------------------


@bp.route("/admin/audit", methods=["GET", "POST"])
@roles_required(Role.SERVICE_ADMIN)
def audit_log():
    # Filters come by POST only: what was typed stays out of the address and the logs.
    form = AuditFilterForm()
    typed = form.validate_on_submit()
    filters = {name: (form[name].data or "").strip() if typed else "" for name in ("action", "actor", "object")}
    filters["unit"] = request.form.get("unit", "").strip()
    query = service.audit_events_matching(filters["action"], filters["actor"], query_id("unit", values=request.form),
                                          filters["object"])
    return (render_template("accounts/audit.html", page=page_of(query), form=form, filters=filters,
                            units=service.units_by_name()), 422 if form.errors else 200)


@bp.route("/admin/outbox")
@roles_required(Role.SERVICE_ADMIN)
def outbox():
    return render_template("accounts/outbox.html", page=page_of(service.outbox_newest_first()))
