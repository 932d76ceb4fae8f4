"""Celia registration: the registrar's flow and the service admin's work list."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import OperationalError

from blueprints.accounts.forms import ResetPasswordForm
from blueprints.accounts.models import Unit
from blueprints.registration import bp, hetu, service
from blueprints.registration.forms import FIELD_LABELS, CustomerForm, NewCustomerForm, WithoutHetuForm
from blueprints.registration.models import ACTION_LABELS, Customer, CustomerStatus
from common.access import Role, roles_required
from common.clock import local_today
from common.refusals import Refused, status_of
from common.transactions import is_busy
from common.views import error_page, page_of, render_busy_form, render_form
from extensions import db

STAFF = (Role.REGISTRAR, Role.MAIN_USER)


@bp.app_context_processor
def celia_service_context():
    """How a stuck registrar reaches the Celia service, and where the customer information form is
    (settings CELIA_SERVICE_EMAIL, CELIA_SERVICE_CHAT_QUEUE, CELIA_CUSTOMER_FORM_URL, CELIA_SECURE_MAIL_URL)."""
    def celia_service():
        config = current_app.config
        queue = config.get("CELIA_SERVICE_CHAT_QUEUE") or 0
        return {
            "email": config.get("CELIA_SERVICE_EMAIL", ""),
            "chat_url": url_for("chat_customer.index", queue=queue) if queue else "",
            "form_url": config.get("CELIA_CUSTOMER_FORM_URL", ""),
            "secure_mail_url": config.get("CELIA_SECURE_MAIL_URL", ""),
        }
    return {"celia_service": celia_service}


def _unit(unit_id):
    unit = db.session.get(Unit, unit_id)
    # Another unit answers as a missing one does: no id reveals what exists elsewhere.
    if unit is None or not service.may_work_in(unit.id):
        abort(404)
    return unit


def _customer(customer_id):
    customer = db.session.get(Customer, customer_id)
    if customer is None or not service.may_see(customer):
        abort(404)
    return customer


def _check_target(unit, purpose):
    """The customer a transfer or reactivation request is about, found by code again (the code
    comes in the POST body; the lookup is counted and audited like a check)."""
    try:
        code, _born = hetu.parse(request.form.get("hetu"))
    except Refused:
        abort(404)
    customer = service.lookup_hetu(code, unit, purpose)
    if customer is None:
        abort(404)
    return customer


@bp.app_errorhandler(service.TooManyLookups)
def too_many_lookups(error):
    message = _("You have checked many identity codes in a short time. Wait a minute and try again.")
    if request.headers.get("HX-Request"):
        return render_template("registration/_throttled.html", message=message), 429
    return error_page(429, _("Too many identity-code checks"), message)


@bp.route("/")
@roles_required(*STAFF)
def index():
    units = service.working_units()
    if len(units) == 1:
        return redirect(url_for("registration.unit", unit_id=units[0].id))
    return render_template("registration/index.html", units=units)


@bp.route("/units/<int:unit_id>")
@roles_required(*STAFF)
def unit(unit_id):
    unit = _unit(unit_id)
    page = page_of(service.unit_customers_query(unit.id))
    return render_template("registration/unit.html", unit=unit, page=page, moved=service.transferred_away(unit.id))


@bp.route("/units/<int:unit_id>/customers")
@roles_required(*STAFF)
def unit_customers(unit_id):
    unit = _unit(unit_id)
    return render_template("registration/_customer_list.html", unit=unit, page=page_of(service.unit_customers_query(unit.id)),
                           moved=service.transferred_away(unit.id))


@bp.route("/units/<int:unit_id>/check", methods=["POST"])
@roles_required(*STAFF)
def check(unit_id):
    unit = _unit(unit_id)
    # POST: an identity code never travels in a URL (access logs, browser history, proxies).
    result = service.check_hetu(request.form.get("hetu", ""), unit)
    return render_template("registration/_check_result.html", unit=unit, result=result)


@bp.route("/units/<int:unit_id>/transfer", methods=["POST"])
@roles_required(*STAFF)
def transfer(unit_id):
    unit = _unit(unit_id)
    customer = _check_target(unit, "transfer")
    try:
        service.transfer_customer(customer, unit)
    except Refused as error:
        flash(str(error), "error")
        return redirect(url_for("registration.unit", unit_id=unit.id))
    flash(_("The customer was transferred to %(unit)s.", unit=unit.name), "success")
    return redirect(url_for("registration.customer", customer_id=customer.id))


@bp.route("/units/<int:unit_id>/reactivation-request", methods=["POST"])
@roles_required(*STAFF)
def request_reactivation(unit_id):
    unit = _unit(unit_id)
    customer = _check_target(unit, "reactivation")
    if customer.status != CustomerStatus.MARKED_FOR_DELETION:
        abort(404)  # the same answer as for a code that is nobody's
    service.request_reactivation(customer, unit)
    return render_template("registration/_reactivation_requested.html", unit=unit)


def _customer_form(form_class, unit, born, **kwargs):
    form = form_class(**kwargs)
    form.set_bases(service.bases_for(unit))
    form.guardian_rule = service.guardian_rule(born) if born else None
    form.born = born
    return form


@bp.route("/units/<int:unit_id>/customers/new", methods=["POST"])
@roles_required(*STAFF)
def new_customer(unit_id):
    """Opened by the check's "Add new customer" button (a POST with the code and `start`),
    saved by the form's own POST: the code is only ever in the request body."""
    unit = _unit(unit_id)
    raw = request.form.get("hetu", "")
    try:
        code, born = hetu.parse(raw)
    except Refused as error:
        flash(str(error), "error")
        return redirect(url_for("registration.unit", unit_id=unit.id))
    form = _customer_form(NewCustomerForm, unit, born)
    form.hetu.data = code
    if request.form.get("start"):
        return render_template("registration/new_customer.html", form=form, unit=unit, code=code, born=born,
                               masked=hetu.mask(code))
    if form.validate_on_submit():
        try:
            customer = service.register_customer(unit, code, form.values())
        except Refused as refusal:
            form.form_errors.append(str(refusal))
            return render_template("registration/new_customer.html", form=form, unit=unit, code=code, born=born,
                                   masked=hetu.mask(code)), status_of(refusal)
        except OperationalError as error:
            if not is_busy(error):
                raise
            return render_busy_form("registration/new_customer.html", form, unit=unit, code=code, born=born,
                                    masked=hetu.mask(code))
        flash(_("The customer is registered. Check the details below."), "success")
        return redirect(url_for("registration.customer", customer_id=customer.id))
    return render_form("registration/new_customer.html", form, unit=unit, code=code, born=born,
                       masked=hetu.mask(code))


@bp.route("/customers/<int:customer_id>")
@roles_required(*STAFF)
def customer(customer_id):
    customer = _customer(customer_id)
    service.record_view(customer)
    return render_template("registration/customer.html", customer=customer, welcome_due=service.getting_started(customer),
                           welcome_mail=service.gets_welcome_mail(customer), **_customer_context(customer))


def _customer_context(customer):
    return {
        "history": service.history(customer),
        "links": service.credential_history(customer),
        "recipients": service.credential_recipients(customer),
        "guardian_rule": service.guardian_rule(customer.birth_date),
        "action_labels": ACTION_LABELS,
        "field_labels": FIELD_LABELS,
    }


@bp.route("/customers/<int:customer_id>/details")
@roles_required(*STAFF)
def customer_details(customer_id):
    customer = _customer(customer_id)
    service.record_view(customer, part="details")
    return render_template("registration/_details.html", customer=customer)


@bp.route("/customers/<int:customer_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def edit_customer(customer_id):
    customer = _customer(customer_id)
    if customer.status != CustomerStatus.ACTIVE and not current_user.is_service_admin:
        abort(403)
    if request.method == "GET":
        service.record_view(customer, part="edit")  # the edit form shows every detail too
    form = _customer_form(CustomerForm, customer.unit, customer.birth_date, obj=customer)
    if form.validate_on_submit():
        service.update_customer(customer, form.values())
        # The credentials section offers the addresses as they are now ("change the email
        # first, then send"): it comes along out of band.
        return (render_template("registration/_details.html", customer=customer, saved=True)
                + render_template("registration/_credentials.html", customer=customer, oob=True,
                                  **_customer_context(customer)))
    return render_form("registration/_edit.html", form, customer=customer)


@bp.route("/customers/<int:customer_id>/hetu", methods=["POST"])
@roles_required(*STAFF)
def reveal_hetu(customer_id):
    customer = _customer(customer_id)
    return render_template("registration/_hetu.html", customer=customer, full=service.reveal_hetu(customer))


@bp.route("/customers/<int:customer_id>/credentials", methods=["POST"])
@roles_required(*STAFF)
def send_credentials(customer_id):
    customer = _customer(customer_id)
    try:
        link = service.send_credentials(customer, request.form.get("recipient", "customer"))
    except Refused as error:
        flash(str(error), "error")
    else:
        flash(_("A link to set a password was sent to %(address)s.", address=link.recipient), "success")
    return redirect(url_for("registration.customer", customer_id=customer.id))


@bp.route("/customers/<int:customer_id>/end", methods=["POST"])
@roles_required(*STAFF)
def end_customership(customer_id):
    customer = _customer(customer_id)
    service.end_customership(customer)
    flash(_("The customership has ended."), "success")
    return redirect(url_for("registration.customer", customer_id=customer.id))


@bp.route("/customers/<int:customer_id>/resume", methods=["POST"])
@roles_required(*STAFF)
def resume_customership(customer_id):
    customer = _customer(customer_id)
    if customer.status != CustomerStatus.ENDED:
        abort(400)
    service.resume_customership(customer)
    flash(_("The customership is active again."), "success")
    return redirect(url_for("registration.customer", customer_id=customer.id))


@bp.route("/search", methods=["GET", "POST"])
@roles_required(*STAFF)
def search():
    # Names are searched by POST only: what was typed stays out of the address and the logs.
    text = request.form.get("q", "").strip()
    units = service.working_units()
    page = page_of(service.search_query(text, [u.id for u in units])) if text else None
    template = "registration/_search_results.html" if request.headers.get("HX-Request") else "registration/search.html"
    return render_template(template, q=text, page=page)


@bp.route("/reviews")
@roles_required(*STAFF)
def reviews():
    units = service.working_units()
    page = page_of(service.passed_reviews_query([u.id for u in units]))
    return render_template("registration/reviews.html", page=page, today=local_today())


# --- the customer's own link ------------------------------------------------------------


@bp.route("/credentials/<token>", methods=["GET", "POST"])
def set_customer_password(token):
    link = service.valid_credential_link(token)
    if link is None:
        abort(410)
    form = ResetPasswordForm()
    form.username_for_rules = link.recipient
    if form.validate_on_submit():
        service.set_customer_password(link, form.new_password.data)
        return render_template("registration/password_set.html")
    return render_form("registration/set_password.html", form)


# --- service admin ------------------------------------------------------------------------


@bp.route("/admin")
@roles_required(Role.SERVICE_ADMIN)
def admin():
    marked = db.session.scalars(
        db.select(Customer).where(Customer.status == CustomerStatus.MARKED_FOR_DELETION).order_by(Customer.last_name_key)
    ).all()
    cd = page_of(db.select(Customer).where(Customer.service_form == "cd", Customer.status == CustomerStatus.ACTIVE).order_by(Customer.last_name_key))
    return render_template("registration/admin.html", requests=service.open_reactivation_requests(), marked=marked, cd=cd)


@bp.route("/admin/requests")
@roles_required(Role.SERVICE_ADMIN)
def reactivation_requests():
    return render_template("registration/_reactivation_requests.html", requests=service.open_reactivation_requests())


@bp.route("/admin/customers/<int:customer_id>/reactivate", methods=["POST"])
@roles_required(Role.SERVICE_ADMIN)
def reactivate(customer_id):
    customer = _customer(customer_id)
    try:
        service.reactivate(customer)
        flash(_("%(name)s is active again.", name=customer.full_name), "success")
    except Refused as error:
        flash(str(error), "error")
    return redirect(url_for("registration.admin"))


@bp.route("/admin/customers/<int:customer_id>/net-user", methods=["POST"])
@roles_required(Role.SERVICE_ADMIN)
def make_net_user(customer_id):
    customer = _customer(customer_id)
    try:
        service.make_net_user(customer)
        flash(_("%(name)s is now a net user.", name=customer.full_name), "success")
    except Refused as error:
        flash(str(error), "error")
    if request.form.get("back") == "customer":
        return redirect(url_for("registration.customer", customer_id=customer.id))
    return redirect(url_for("registration.admin"))


@bp.route("/admin/customers/<int:customer_id>/mark-for-deletion", methods=["POST"])
@roles_required(Role.SERVICE_ADMIN)
def mark_for_deletion(customer_id):
    customer = _customer(customer_id)
    service.mark_for_deletion(customer)
    flash(_("%(name)s is marked for deletion.", name=customer.full_name), "success")
    return redirect(url_for("registration.admin"))


@bp.route("/admin/without-hetu", methods=["GET", "POST"])
@roles_required(Role.SERVICE_ADMIN)
def register_without_hetu():
    units = service.all_celia_units()
    form = WithoutHetuForm()
    form.unit.choices = [(u.id, u.name) for u in units]
    form.set_bases([b for b in service.Basis])
    if form.birth_date.data:
        form.guardian_rule = service.guardian_rule(form.birth_date.data)
    if form.validate_on_submit():
        unit = db.session.get(Unit, form.unit.data)
        customer = service.register_without_hetu(unit, form.birth_date.data, form.values())
        flash(_("Registered with the identifier %(id)s.", id=customer.service_identifier), "success")
        return redirect(url_for("registration.customer", customer_id=customer.id))
    return render_form("registration/without_hetu.html", form)
