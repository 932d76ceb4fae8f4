"""Celia registration: the registrar's flow and the service admin's work list."""

from flask import Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.accounts.forms import ResetPasswordForm
from blueprints.accounts.models import Unit
from blueprints.registration import bp, credentials, hetu, service
from blueprints.registration.forms import (
    FIELD_LABELS,
    CustomerForm,
    NameSearchForm,
    NewCustomerForm,
    TransferForm,
    WithoutHetuForm,
)
from blueprints.registration.models import ACTION_LABELS, Basis, Customer, CustomerStatus
from common.access import Role, roles_required
from common.clock import local_today
from common.refusals import Refused
from common.security import exchange_one_time_link, no_referrer
from common.views import error_page, page_of, render_form, render_refusal
from extensions import db

STAFF = (Role.REGISTRAR, Role.MAIN_USER)


@bp.app_context_processor
def celia_service_context():
    """How a stuck registrar reaches the Celia service, and where the customer information form is
    (settings CELIA_SERVICE_EMAIL, CELIA_SERVICE_CHAT_QUEUE, CELIA_CUSTOMER_FORM_URL, CELIA_SECURE_MAIL_URL)."""
    def celia_service():
        config = current_app.config
        queue = config["CELIA_SERVICE_CHAT_QUEUE"]
        return {
            "email": config["CELIA_SERVICE_EMAIL"],
            "chat_url": url_for("chat_customer.index", queue=queue) if queue else "",
            "form_url": config["CELIA_CUSTOMER_FORM_URL"],
            "secure_mail_url": config["CELIA_SECURE_MAIL_URL"],
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
    comes in the POST body; the lookup is counted and audited like a check). A code that is not
    valid is answered as one that is nobody's."""
    customer = service.lookup_hetu(request.form.get("hetu"), unit, purpose)
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
    return render_template("registration/unit.html", **_unit_context(unit))


def _unit_context(unit):
    return {
        "unit": unit,
        "page": page_of(service.unit_customers_query(unit.id)),
        "moved": service.transferred_away(unit.id),
    }


def _refused_on_unit_page(unit, refusal):
    """A refused POST from the unit page's check (a transfer, the add form's code): the unit page
    again, the message in the check's place and the code in its field."""
    return render_refusal("registration/unit.html", refusal, hetu_code=request.form.get("hetu", ""),
                          **_unit_context(unit))


@bp.route("/units/<int:unit_id>/customers")
@roles_required(*STAFF)
def unit_customers(unit_id):
    unit = _unit(unit_id)
    return render_template("registration/_customer_list.html", unit=unit,
                           page=page_of(service.unit_customers_query(unit.id)), moved=service.transferred_away(unit.id))


@bp.route("/units/<int:unit_id>/check", methods=["POST"])
@roles_required(*STAFF)
def check(unit_id):
    unit = _unit(unit_id)
    # POST: an identity code never travels in a URL (access logs, browser history, proxies).
    result = service.check_hetu(request.form.get("hetu", ""), unit)
    context = {"unit": unit, "result": result, "transfer_form": _transfer_form(unit, formdata=None)}
    if not request.headers.get("HX-Request"):
        # Sent before the page's scripts ran (Enter at once on a slow machine): the whole page,
        # the answer in its place and the code in its field.
        return render_template("registration/unit.html", hetu_code=request.form.get("hetu", ""),
                               **{**_unit_context(unit), **context})
    return render_template("registration/_check_result.html", **context)


def _transfer_form(unit, **kwargs):
    form = TransferForm(**kwargs)
    form.set_bases(service.bases_for(unit), unit.name)
    return form


@bp.route("/units/<int:unit_id>/transfer", methods=["POST"])
@roles_required(*STAFF)
def transfer(unit_id):
    unit = _unit(unit_id)
    customer = _check_target(unit, "transfer")
    form = _transfer_form(unit)
    basis = form.basis.data if form.basis.data in set(Basis) else None
    try:
        service.transfer_customer(customer, unit, Basis(basis) if basis else None)
    except Refused as refusal:
        if refusal.field != "basis":
            return _refused_on_unit_page(unit, refusal)
        # The check's answer again, the message at its basis field.
        code, _born = hetu.parse(request.form.get("hetu"))
        result = service.CheckResult("other_unit", code=code, unit_name=customer.unit.name)
        return render_refusal("registration/unit.html", refusal, form, hetu_code=code, result=result,
                              transfer_form=form, **_unit_context(unit))
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
    except Refused as refusal:  # the check offers the form for valid codes only
        return _refused_on_unit_page(unit, refusal)
    form = _customer_form(NewCustomerForm, unit, born)
    form.hetu.data = code
    if request.form.get("start"):
        return render_template("registration/new_customer.html", form=form, unit=unit, code=code, born=born,
                               masked=hetu.mask(code))
    if form.validate_on_submit():
        try:
            customer = service.register_customer(unit, code, form.values())
        except Refused as refusal:
            return render_refusal("registration/new_customer.html", refusal, form, unit=unit, code=code, born=born,
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
    return render_template("registration/customer.html", **_customer_page_context(customer))


def _customer_page_context(customer):
    # The history shows the changes; ?history=all adds the views and code checks.
    with_access = request.args.get("history") == "all"
    return {"customer": customer, "welcome_due": credentials.getting_started(customer),
            "welcome_mail": credentials.gets_welcome_mail(customer), **_customer_context(customer),
            "history": service.history(customer, with_access=with_access), "history_with_access": with_access,
            "access_count": service.access_count(customer)}


def _refused_on_customer_page(customer, refusal, part):
    """A refused POST from the customer page: the page again (a showing of the details, so
    audited as one), the message in the `part` that was sent ("credentials", "actions")."""
    service.record_view(customer)
    return render_refusal("registration/customer.html", refusal, refused_part=part, **_customer_page_context(customer))


def _customer_context(customer):
    return {
        "links": credentials.credential_history(customer),
        "recipients": credentials.credential_recipients(customer),
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
        try:
            service.update_customer(customer, form.values())
        except Refused as refusal:
            return render_refusal("registration/_edit.html", refusal, form, customer=customer)
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
        link = credentials.send_credentials(customer, request.form.get("recipient", "customer"))
    except Refused as refusal:
        return _refused_on_customer_page(customer, refusal, "credentials")
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
    form = NameSearchForm()
    text = (form.q.data or "").strip() if form.validate_on_submit() else ""
    if form.errors and request.headers.get("HX-Request"):
        # Too long: the message goes to the field, in the form the person typed in.
        return (render_template("registration/_search_form.html", form=form), 422,
                {"HX-Retarget": "#search-form", "HX-Reswap": "outerHTML"})
    units = service.working_units()
    page = page_of(service.search_query(text, [u.id for u in units])) if text else None
    template = "registration/_search_results.html" if request.headers.get("HX-Request") else "registration/search.html"
    return render_template(template, form=form, page=page), 422 if form.errors else 200


@bp.route("/export.csv")
@roles_required(Role.MAIN_USER)
def export_customers():
    """A main user's download of their units' customers (service.customers_csv: masked codes only)."""
    units = service.export_units()
    if not units:
        abort(403)
    body = service.customers_csv(service.export_customers(units))
    filename = f"celia-customers-{local_today().isoformat()}.csv"
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


@bp.route("/reviews")
@roles_required(*STAFF)
def reviews():
    units = service.working_units()
    page = page_of(service.passed_reviews_query([u.id for u in units]))
    return render_template("registration/reviews.html", page=page, today=local_today())


# --- the customer's own link ------------------------------------------------------------


CREDENTIAL_TOKEN = "credential_token"  # the session's key for the link being used


@bp.route("/credentials/<token>")
def set_customer_password(token):
    """The mailed link, exchanged at once for the token-free form."""
    return exchange_one_time_link(token, credentials.valid_credential_link, CREDENTIAL_TOKEN,
                                  "registration.customer_password_form")


@bp.route("/credentials", methods=["GET", "POST"])
def customer_password_form():
    """Set the password: the POST uses the link that was opened in this browser."""
    token = session.get(CREDENTIAL_TOKEN)
    link = credentials.valid_credential_link(token) if token else None
    if link is None:
        session.pop(CREDENTIAL_TOKEN, None)
        abort(410)
    form = ResetPasswordForm()
    form.username_for_rules = link.recipient
    if form.validate_on_submit():
        try:
            credentials.set_customer_password(link, form.new_password.data)
        except Refused as refusal:
            return no_referrer(render_refusal("registration/set_password.html", refusal, form))
        session.pop(CREDENTIAL_TOKEN, None)
        return no_referrer(render_template("registration/password_set.html"))
    return no_referrer(render_form("registration/set_password.html", form))


# --- service admin ------------------------------------------------------------------------


@bp.route("/admin")
@roles_required(Role.SERVICE_ADMIN)
def admin():
    return render_template("registration/admin.html", **_admin_context())


def _admin_context():
    return {"requests": service.open_reactivation_requests(), "marked": service.customers_marked_for_deletion(),
            "cd": page_of(service.cd_borrowers_query())}


def _admin_refused(customer, refusal):
    """A refused action of the work list, or of the customer page (`back`): that page again,
    with the message and how things stand now."""
    if request.form.get("back") == "customer":
        return _refused_on_customer_page(customer, refusal, "actions")
    return render_refusal("registration/admin.html", refusal, **_admin_context())


def _admin_done(customer):
    if request.form.get("back") == "customer":
        return redirect(url_for("registration.customer", customer_id=customer.id))
    return redirect(url_for("registration.admin"))


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
    except Refused as refusal:
        return _admin_refused(customer, refusal)
    flash(_("%(name)s is active again.", name=customer.full_name), "success")
    return _admin_done(customer)


@bp.route("/admin/customers/<int:customer_id>/net-user", methods=["POST"])
@roles_required(Role.SERVICE_ADMIN)
def make_net_user(customer_id):
    customer = _customer(customer_id)
    try:
        service.make_net_user(customer)
    except Refused as refusal:
        return _admin_refused(customer, refusal)
    flash(_("%(name)s is now a net user.", name=customer.full_name), "success")
    return _admin_done(customer)


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
        try:
            customer = service.register_without_hetu(unit, form.birth_date.data, form.values())
        except Refused as refusal:
            return render_refusal("registration/without_hetu.html", refusal, form)
        flash(_("Registered with the identifier %(id)s.", id=customer.service_identifier), "success")
        return redirect(url_for("registration.customer", customer_id=customer.id))
    return render_form("registration/without_hetu.html", form)
