from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from blueprints.accounts.models import Unit, UnitKind
from blueprints.ebook import addresses, bp, cards, passwords, pricing, signups
from blueprints.ebook.forms import (
    COUNTRY_LABELS,
    DISCOUNT_NUMBER_HELP,
    IDENTITY_DOCUMENT_LABELS,
    LANGUAGE_LABELS,
    BranchSettingsForm,
    CorrectionForm,
    CustomerSearchForm,
    EndCustomerForm,
    SignupForm,
    TariffForm,
)
from blueprints.ebook.models import PERSON_KIND_LABELS, EbookCustomer, Tariff
from common.access import Role, require_unit, roles_required
from common.refusals import Refused
from common.views import (
    format_local_date,
    format_local_datetime,
    format_money,
    query_id,
    render_form,
    render_refusal,
)
from extensions import db

TABS = ("customer", "address", "subscription", "other")


def my_branches():
    return current_user.units(Role.COUNTER_STAFF, kinds=[UnitKind.BRANCH])


def branch_or_404(unit_id):
    require_unit(Role.COUNTER_STAFF, unit_id)
    unit = db.get_or_404(Unit, unit_id)
    if unit.kind != UnitKind.BRANCH or not unit.branch_code:
        abort(404)
    return unit


def customer_or_404(customer_id):
    customer = db.get_or_404(EbookCustomer, customer_id)
    require_unit(Role.COUNTER_STAFF, customer.unit_id)
    return customer


def chosen_branch():
    branches = my_branches()
    wanted = query_id("branch")
    if wanted is not None:
        return branch_or_404(wanted), branches
    return (branches[0] if branches else None), branches


@bp.route("/")
@roles_required(Role.COUNTER_STAFF)
def index():
    unit, branches = chosen_branch()
    return render_template("ebook/index.html", unit=unit, branches=branches,
                           signups=signups.todays_signups(unit.id) if unit else [])


@bp.route("/branches/<int:unit_id>/today")
@roles_required(Role.COUNTER_STAFF)
def todays_signups(unit_id):
    unit = branch_or_404(unit_id)
    return render_template("ebook/_todays_signups.html", unit=unit, signups=signups.todays_signups(unit.id))


def prepare_signup_form(unit, form, kept=None):
    """Offer the tariffs the customer's age allows (all of the branch's until a birth date is known);
    a correction offers the tariff `kept` too, so that it can stay."""
    born = form.birth_date_value()
    age = pricing.age_on(born, pricing.branch_today()) if born else None
    tariffs = pricing.tariffs_for_age(unit.id, age) if born else pricing.branch_tariffs(unit.id)
    if kept is not None and kept not in tariffs:
        tariffs = [kept, *tariffs]
    form.tariff.choices = [(str(t.id), t.code) for t in tariffs]
    form.unit = form.unit or unit
    if form.discount_reason is not None:
        form.offer_discount_reasons(cards.branch_settings(unit).discount_reason_list())
    return tariffs, age


def kept_tariff(customer):
    sub = customer.subscription
    return sub.tariff if sub else None


def summary_for(form, tariffs, age, customer=None):
    """The cost summary of what the form says so far, among the `tariffs` prepare_signup_form
    offers: of a signup, or of a correction's change of tariff. None while no allowed tariff is
    chosen, or while a correction keeps the tariff taken. A discount the branch's rules refuse
    counts as none, and the summary says why (`discount_problem`)."""
    kept = kept_tariff(customer) if customer else None
    chosen = next((t for t in tariffs if str(t.id) == form.tariff.data), None)
    if chosen is None or age is None or (kept is not None and chosen.id == kept.id):
        return None
    name = " ".join(p for p in (form.initials.data, form.prefix.data, form.surname.data) if p)
    if customer is None:
        discount, problem, cents = form.requested_discount(), None, 0
        if form.discount_value() is None:
            problem = DISCOUNT_NUMBER_HELP
        try:
            cents = pricing.check_discount(cards.branch_settings(form.unit), discount, chosen.price_cents)
        except Refused as refusal:
            problem = refusal.message
        summary = pricing.cost_summary(name, age, chosen, pricing.branch_today(), cents, discount)
        summary.discount_problem = problem
        return summary
    return pricing.change_summary(name, form.birth_date_value(), customer.subscription, chosen, pricing.branch_today())


def bank_account_for(form):
    """(IBAN, BIC, problem) of what is typed in the IBAN field, for the live summary; None when empty."""
    return addresses.bank_account(form.iban.data)


def settle_address(form, saved=None):
    """The street and city the form's address is saved with (addresses.settle_address); a refusal
    is for render_refusal. Looked-up fields never keep what was sent: no street of another address
    is saved or shown again."""
    by_hand = form.address_manual.data
    if not by_hand:
        form.street.data = form.city.data = ""
    form.street.data, form.city.data = addresses.settle_address(
        form.country.data, form.postcode.data, form.house_number.data, form.street.data, form.city.data,
        by_hand=by_hand, saved=saved)


@bp.route("/branches/<int:unit_id>/customers/new", methods=["GET", "POST"])
@roles_required(Role.COUNTER_STAFF)
def new_customer(unit_id):
    unit = branch_or_404(unit_id)
    pricing.ensure_tariffs(unit)
    form = SignupForm()
    form.unit = unit
    tariffs, age = prepare_signup_form(unit, form)
    if form.validate_on_submit():
        tariff = next(t for t in tariffs if str(t.id) == form.tariff.data)
        try:
            settle_address(form)  # may ask the address service: before the save's transaction
            customer, password = signups.sign_up(unit, form.customer_details(), tariff, form.scanned_card_number(),
                                                 staff=current_user, duplicate_confirmed=form.confirm_duplicate.data,
                                                 discount=form.requested_discount())
        except Refused as refusal:
            return render_refusal("ebook/new_customer.html", refusal, form, unit=unit, tariffs=tariffs,
                                  settings=cards.branch_settings(unit),
                                  duplicates=getattr(refusal, "duplicates", []),  # whom a look-alike looks like
                                  summary=summary_for(form, tariffs, age), bank_account=bank_account_for(form),
                                  expected_format=cards.expected_card_format(unit))
        else:
            # The receipt with the password is this answer: no later request can show it again.
            return receipt_page(customer, password, signed_up=True)
    summary = summary_for(form, tariffs, age) if form.is_submitted() else None
    return render_form("ebook/new_customer.html", form, unit=unit, tariffs=tariffs, duplicates=[],
                       settings=cards.branch_settings(unit),
                       expected_format=cards.expected_card_format(unit),
                       summary=summary, bank_account=bank_account_for(form) if form.is_submitted() else None)


@bp.route("/branches/<int:unit_id>/customers/new/tariffs", methods=["POST"])
@roles_required(Role.COUNTER_STAFF)
def tariff_choices(unit_id):
    unit = branch_or_404(unit_id)
    form = SignupForm()
    tariffs, age = prepare_signup_form(unit, form)
    return render_template("ebook/_tariffs.html", form=form, tariffs=tariffs, age=age)


@bp.route("/branches/<int:unit_id>/customers/new/summary", methods=["POST"])
@roles_required(Role.COUNTER_STAFF)
def cost_summary(unit_id):
    unit = branch_or_404(unit_id)
    form = SignupForm()
    tariffs, age = prepare_signup_form(unit, form)
    return render_template("ebook/_cost_summary.html", form=form, unit=unit, summary=summary_for(form, tariffs, age),
                           bank_account=bank_account_for(form))


@bp.route("/branches/<int:unit_id>/customers/new/address", methods=["POST"])
@roles_required(Role.COUNTER_STAFF)
def address_lookup(unit_id):
    branch_or_404(unit_id)
    form = SignupForm()
    found = None
    if not form.address_manual.data and form.house_number.data:
        found = addresses.find_address(form.country.data, form.postcode.data, form.house_number.data)
        form.street.data, form.city.data = found or ("", "")  # never keep the street of another address
    return render_template("ebook/_address.html", form=form, found=found, looked_up=True)


def render_receipt(customer, password):
    """The printable receipt, in the customer's language (the staff page around it stays in theirs)."""
    settings = cards.branch_settings(customer.unit)
    with force_locale(customer.language):
        return Markup(render_template("ebook/_receipt.html", customer=customer, password=password,
                                      subscription=customer.subscription, money=format_money,
                                      login_url=settings.login_url))


def receipt_page(customer, password=None, signed_up=False):
    """The receipt page; with the password only in the answer of the POST that made it."""
    return render_template("ebook/receipt.html", customer=customer, receipt=render_receipt(customer, password),
                           first=password is not None, signed_up=signed_up)


@bp.route("/customers/<int:customer_id>/receipt")
@roles_required(Role.COUNTER_STAFF)
def receipt(customer_id):
    """A reprint: reading it changes nothing, and it never carries a password."""
    return receipt_page(customer_or_404(customer_id))


@bp.route("/customers/<int:customer_id>/new-password", methods=["POST"])
@roles_required(Role.COUNTER_STAFF)
def new_password(customer_id):
    customer = customer_or_404(customer_id)
    return receipt_page(customer, passwords.reissue_password(customer))


def overview_context(customer, tab):
    today = pricing.branch_today()
    return dict(
        customer=customer, tab=tab, tabs=TABS, today=today,
        age=pricing.age_on(customer.birth_date, today), money=format_money,
        person_kinds=PERSON_KIND_LABELS, countries=COUNTRY_LABELS, languages=LANGUAGE_LABELS,
        documents=IDENTITY_DOCUMENT_LABELS,
        format_iban=addresses.format_iban, can_delete=not signups.billed_cents(customer),
    )


def chosen_tab():
    tab = request.args.get("tab", "customer")
    return tab if tab in TABS else "customer"


@bp.route("/customers/<int:customer_id>")
@roles_required(Role.COUNTER_STAFF)
def customer(customer_id):
    customer = customer_or_404(customer_id)
    signups.record_view(customer)
    return render_template("ebook/customer.html", **overview_context(customer, chosen_tab()))


@bp.route("/customers/<int:customer_id>/overview")
@roles_required(Role.COUNTER_STAFF)
def customer_overview(customer_id):
    """The overview region, re-fetched when a colleague changes, ends or deletes a customer of the branch."""
    customer = db.session.get(EbookCustomer, customer_id)
    if customer is None:
        return render_template("ebook/_customer_gone.html")
    require_unit(Role.COUNTER_STAFF, customer.unit_id)
    return render_template("ebook/_overview.html", **overview_context(customer, chosen_tab()))


def correction_form(customer):
    form = CorrectionForm() if request.method == "POST" else CorrectionForm.for_customer(customer)
    form.unit, form.customer = customer.unit, customer
    return form


@bp.route("/customers/<int:customer_id>/edit", methods=["GET", "POST"])
@roles_required(Role.COUNTER_STAFF)
def edit_customer(customer_id):
    """"Wijzig": every signup field, the card number and the subscription, with the signup's rules."""
    customer = customer_or_404(customer_id)
    form = correction_form(customer)
    kept = kept_tariff(customer)
    tariffs, age = prepare_signup_form(customer.unit, form, kept)
    context = dict(customer=customer, unit=customer.unit, tariffs=tariffs, age=age, kept=kept,
                   expected_format=cards.expected_card_format(customer.unit))
    if form.validate_on_submit():
        tariff = next(t for t in tariffs if str(t.id) == form.tariff.data)
        try:
            settle_address(form, saved=customer)  # may ask the address service: before the save's transaction
            changed = signups.update_customer(customer, form.customer_details(), form.new_card_number(), tariff,
                                              duplicate_confirmed=form.confirm_duplicate.data)
        except Refused as refusal:
            return render_refusal("ebook/edit_customer.html", refusal, form,
                                  duplicates=getattr(refusal, "duplicates", []),  # whom a look-alike looks like
                                  summary=summary_for(form, tariffs, age, customer),
                                  bank_account=bank_account_for(form), **context)
        else:
            flash(_("The customer's details are saved."), "success")
            if "card_number" in changed:
                flash(_("The card number is now %(number)s: print the receipt again for the customer.",
                        number=customer.card_number), "success")
            return redirect(url_for("ebook.customer", customer_id=customer.id))
    submitted = form.is_submitted()
    return render_form("ebook/edit_customer.html", form, duplicates=[],
                       summary=summary_for(form, tariffs, age, customer) if submitted else None,
                       bank_account=bank_account_for(form) if submitted else None, **context)


@bp.route("/customers/<int:customer_id>/edit/tariffs", methods=["POST"])
@roles_required(Role.COUNTER_STAFF)
def correction_tariffs(customer_id):
    customer = customer_or_404(customer_id)
    form = correction_form(customer)
    kept = kept_tariff(customer)
    tariffs, age = prepare_signup_form(customer.unit, form, kept)
    return render_template("ebook/_tariffs.html", form=form, tariffs=tariffs, age=age, kept=kept)


@bp.route("/customers/<int:customer_id>/edit/summary", methods=["POST"])
@roles_required(Role.COUNTER_STAFF)
def correction_summary(customer_id):
    customer = customer_or_404(customer_id)
    form = correction_form(customer)
    kept = kept_tariff(customer)
    tariffs, age = prepare_signup_form(customer.unit, form, kept)
    return render_template("ebook/_cost_summary.html", form=form, unit=customer.unit, customer=customer,
                           kept=kept, summary=summary_for(form, tariffs, age, customer),
                           bank_account=bank_account_for(form))


@bp.route("/customers/<int:customer_id>/end", methods=["GET", "POST"])
@roles_required(Role.COUNTER_STAFF)
def end_customer(customer_id):
    """"Klant afsluiten": the subscription ends on a day, with a reason."""
    customer = customer_or_404(customer_id)
    form = EndCustomerForm()
    if request.method == "GET":
        form.ends_on.data = pricing.branch_today().strftime("%d-%m-%Y")
    if form.validate_on_submit():
        try:
            signups.end_customer(customer, form.ends_on_value(), form.reason.data)
        except Refused as refusal:
            return render_refusal("ebook/end_customer.html", refusal, form, customer=customer)
        else:
            flash(_("The customer is ended on %(day)s.", day=format_local_date(customer.ended_on)), "success")
            return redirect(url_for("ebook.customer", customer_id=customer.id))
    return render_form("ebook/end_customer.html", form, customer=customer)


@bp.route("/customers/<int:customer_id>/delete", methods=["GET", "POST"])
@roles_required(Role.COUNTER_STAFF)
def delete_customer(customer_id):
    """"Verwijder": only a customer with nothing billed, after a confirmation."""
    customer = customer_or_404(customer_id)
    if request.method == "POST":
        unit_id = customer.unit_id
        try:
            signups.delete_customer(customer)
        except Refused as refusal:  # billed (the page says so and offers ending instead), or a busy database
            return render_refusal("ebook/delete_customer.html", refusal, customer=customer,
                                  billed=signups.billed_cents(customer), money=format_money)
        flash(_("The customer is deleted."), "success")
        return redirect(url_for("ebook.index", branch=unit_id))
    return render_template("ebook/delete_customer.html", customer=customer, billed=signups.billed_cents(customer),
                           money=format_money)


@bp.route("/customers", methods=["GET", "POST"])
@roles_required(Role.COUNTER_STAFF)
def customers():
    unit, branches = chosen_branch()
    # Searched by POST only: a surname or card number typed stays out of the address and the logs.
    form = CustomerSearchForm()
    query = (form.q.data or "").strip() if form.validate_on_submit() else ""
    found = signups.find_customers(unit.id, query) if unit and query else []
    return render_template("ebook/customers.html", unit=unit, branches=branches, form=form, query=query, found=found,
                           today=pricing.branch_today()), 422 if form.errors else 200


@bp.route("/branches/<int:unit_id>/tariffs")
@roles_required(Role.SERVICE_ADMIN)
def tariffs(unit_id):
    unit = branch_or_404(unit_id)
    return render_template("ebook/tariffs.html", unit=unit, tariffs=pricing.price_list(unit.id), money=format_money)


@bp.route("/branches/<int:unit_id>/settings", methods=["GET", "POST"])
@roles_required(Role.SERVICE_ADMIN)
def branch_settings(unit_id):
    unit = branch_or_404(unit_id)
    settings = cards.branch_settings(unit)
    form = BranchSettingsForm(data={"login_url": settings.login_url, "card_formats": cards.accepted_card_formats(unit),
                                    "discount_reasons": settings.discount_reasons,
                                    "max_discount_percent": settings.max_discount_percent}
                              if request.method == "GET" else None)
    form.card_formats.choices = [(name, str(label) % {"branch": unit.branch_code})
                                 for name, (_rule, label) in cards.CARD_FORMATS.items()]
    if form.validate_on_submit():
        try:
            cards.save_branch_settings(unit, form.login_url.data, form.card_formats.data,
                                       form.discount_reasons.data, form.max_discount_percent.data)
        except Refused as refusal:  # a busy database: "save again", the choices kept
            return render_refusal("ebook/branch_settings.html", refusal, form, unit=unit)
        flash(_("The branch settings are saved."), "success")
        return redirect(url_for("ebook.tariffs", unit_id=unit.id))
    return render_form("ebook/branch_settings.html", form, unit=unit)


@bp.route("/tariffs/<int:tariff_id>/edit", methods=["GET", "POST"])
@roles_required(Role.SERVICE_ADMIN)
def edit_tariff(tariff_id):
    tariff = db.get_or_404(Tariff, tariff_id)
    form = TariffForm(obj=tariff)
    if form.validate_on_submit():
        try:
            pricing.save_tariff(tariff, form.values())
        except Refused as refusal:  # a busy database: "save again", the values kept
            return render_refusal("ebook/edit_tariff.html", refusal, form, tariff=tariff)
        flash(_("Tariff %(code)s saved.", code=tariff.code), "success")
        return redirect(url_for("ebook.tariffs", unit_id=tariff.unit_id))
    return render_form("ebook/edit_tariff.html", form, tariff=tariff)


@bp.app_template_filter("ebook_date")
def date_filter(day):
    return format_local_date(day)


@bp.app_template_filter("ebook_month")
def month_filter(day):
    return format_date(day, "LLLL yyyy")


@bp.app_template_filter("branch_datetime")
def branch_datetime_filter(moment):
    """A stored naive UTC time shown in the branches' zone (Dutch time), whatever zone the staff user has."""
    if moment is None:
        return ""
    return format_local_datetime(moment, zone=pricing.branch_zone())
