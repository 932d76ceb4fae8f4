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
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash

from blueprints.accounts import bp, service
from blueprints.accounts.forms import (
    NOTICE_AREAS as NOTICE_AREA_CHOICES,
)
from blueprints.accounts.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    NoticeForm,
    RegistrarForm,
    ResetPasswordForm,
    RoleForm,
    UnitForm,
    UserForm,
)
from blueprints.accounts.models import (
    CELIA_UNIT_KINDS,
    Notice,
    RoleAssignment,
    Unit,
    User,
)
from common.access import Role, roles_required
from common.audit import AuditEvent
from common.clock import utcnow
from common.mail import OutboxMail
from common.refusals import Refused
from common.views import local_to_utc, page_of, query_id, render_form, safe_next
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
    # One query for the user, their roles and the roles' units, which every request asks about.
    user = db.session.scalars(select(User).where(User.id == int(user_id)).options(
        joinedload(User.role_assignments).joinedload(RoleAssignment.unit))).unique().first()
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
    error = None
    if form.validate_on_submit():
        try:
            user = service.authenticate(form.username.data, form.password.data)
        except Refused as refusal:
            error = str(refusal)
        else:
            session.clear()
            login_user(user)
            service.start_session(user)
            return redirect(safe_next(request.args.get("next")) or url_for("accounts.index"))
    # A locked registrar is told how to reach the service, which alone unlocks the account.
    return render_form("accounts/login.html", form, refused=error is not None, error=error,
                       locked=error == service.locked_message())


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
        if not check_password_hash(current_user.password_hash or "", form.current_password.data):
            form.current_password.errors.append(_("The current password is wrong."))
        else:
            try:
                service.change_password(current_user, form.new_password.data)
            except Refused as refusal:
                form.new_password.errors.append(str(refusal))
            else:
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


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    record = service.valid_reset_token(token)
    if record is None:
        abort(410)
    form = ResetPasswordForm()
    form.username_for_rules = record.user.username
    if form.validate_on_submit():
        try:
            service.reset_password(record, form.new_password.data)
        except Refused as refusal:
            form.new_password.errors.append(str(refusal))
        else:
            flash(_("Your password is set. You can log in now."), "success")
            return redirect(url_for("accounts.login"))
    return render_form("accounts/reset_password.html", form, token=token)


# --- notices ---------------------------------------------------------------------------


@bp.route("/notices/banner")
@login_required
def notice_banner():
    area = request.args.get("area", "accounts")
    return render_template("_notice_banner.html", notices=notices_for(area if area in NOTICE_AREAS.values() else "accounts"))


@bp.route("/admin/notices", methods=["GET", "POST"])
@roles_required(Role.SERVICE_ADMIN)
def notices():
    form = NoticeForm()
    form.units.choices = [(str(u.id), u.name) for u in db.session.scalars(select(Unit).where(Unit.active).order_by(Unit.name))]
    if form.validate_on_submit():
        ends_at = local_to_utc(form.ends_at.data) if form.ends_at.data else None
        if ends_at and ends_at <= utcnow():
            form.ends_at.errors.append(_("The end time must be in the future."))
        else:
            units = db.session.scalars(select(Unit).where(Unit.id.in_([int(u) for u in form.units.data]))).all()
            service.publish_notice(form.text.data, ends_at, current_user, areas=form.areas.data, units=units)
            flash(_("The notice is published."), "success")
            return redirect(url_for("accounts.notices"))
    recent = db.session.scalars(select(Notice).order_by(Notice.created_at.desc()).limit(50)).all()
    return render_form("accounts/notices.html", form, recent=recent, now=utcnow())


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
    all_units = db.session.scalars(select(Unit).order_by(Unit.kind, Unit.name)).all()
    return render_template("accounts/units.html", units=all_units)


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
            getattr(form, refusal.field).errors.append(refusal.message)
        else:
            return redirect(url_for("accounts.units"))
    return render_form("accounts/unit_form.html", form, unit=unit)


# --- users -----------------------------------------------------------------------------


@bp.route("/admin/users", methods=["GET", "POST"])
@roles_required(Role.SERVICE_ADMIN)
def users():
    query = select(User).order_by(User.display_name)
    search = request.form.get("q", "").strip()  # by POST only: out of the address and the logs
    if search:
        like = f"%{search.lower()}%"
        query = query.where(db.func.lower(User.username).like(like) | db.func.lower(User.display_name).like(like))
    return render_template("accounts/users.html", page=page_of(query), q=search)


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
            form.username.errors.append(refusal.message)
        else:
            flash(_("The account is created and a link to set the password was mailed."), "success")
            return redirect(url_for("accounts.user_detail", user_id=user.id))
    return render_form("accounts/user_new.html", form)


def _role_form():
    form = RoleForm(prefix="role")
    form.unit.choices = [(0, "—")] + [(u.id, f"{u.name} ({u.kind_label})") for u in db.session.scalars(select(Unit).order_by(Unit.name))]
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
            form.username.errors.append(refusal.message)
        else:
            flash(_("The account is saved."), "success")
            return redirect(url_for("accounts.user_detail", user_id=user.id))
    return render_form("accounts/user_detail.html", form, user=user, role_form=_role_form())


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
            role_form.role.errors.append(str(refusal))
        else:
            flash(_("The role is granted."), "success")
            return redirect(url_for("accounts.user_detail", user_id=user.id))
    return render_template("accounts/user_detail.html", form=UserForm(obj=user), user=user, role_form=role_form), 422


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
            form.username.errors.append(str(refusal))
        else:
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
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    # Filters come by POST only: what was typed stays out of the address and the logs.
    filters = {name: request.form.get(name, "").strip() for name in ("action", "actor", "unit", "object")}
    if filters["action"]:
        query = query.where(AuditEvent.action.startswith(filters["action"]))
    if filters["actor"]:
        query = query.join(User, AuditEvent.actor_id == User.id).where(User.username == filters["actor"])
    unit_id = query_id("unit", values=request.form)
    if unit_id is not None:
        query = query.where(AuditEvent.unit_id == unit_id)
    if filters["object"]:
        object_type, _sep, object_id = filters["object"].partition(":")
        query = query.where(AuditEvent.object_type == object_type)
        if object_id:
            query = query.where(AuditEvent.object_id == object_id)
    all_units = db.session.scalars(select(Unit).order_by(Unit.name)).all()
    return render_template("accounts/audit.html", page=page_of(query), filters=filters, units=all_units)


@bp.route("/admin/outbox")
@roles_required(Role.SERVICE_ADMIN)
def outbox():
    query = select(OutboxMail).order_by(OutboxMail.created_at.desc(), OutboxMail.id.desc())
    return render_template("accounts/outbox.html", page=page_of(query))
