import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    RadioField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from blueprints.ebook import addresses, cards, pricing
from blueprints.ebook.models import (
    PERSON_KIND_LABELS,
    TARIFF_KIND_LABELS,
    CustomerDetails,
    PersonKind,
    TariffKind,
)
from blueprints.ebook.pricing import Discount
from common.refusals import Refused

YES_NO = [("yes", _l("Yes")), ("no", _l("No"))]
DISCOUNT_NUMBER_HELP = _l("Enter the discount as a number: an amount like 4.20 or a whole percentage like 10.")
DISCOUNT_KINDS = [("amount", _l("Amount in euros")), ("percent", _l("Percentage of the subscription fee"))]
COUNTRIES = [("NL", _l("Netherlands")), ("BE", _l("Belgium")), ("DE", _l("Germany"))]
IDENTITY_DOCUMENTS = [
    ("", _l("(none)")),
    ("passport", _l("Passport")),
    ("identity_card", _l("Identity card")),
    ("driving_licence", _l("Driving licence")),
    ("residence_permit", _l("Residence permit")),
]
IDENTITY_DOCUMENT_LABELS = dict(IDENTITY_DOCUMENTS)
LANGUAGES = [("nl", "Nederlands"), ("en", "English"), ("fi", "Suomi"), ("sv", "Svenska")]  # each in its own language
LANGUAGE_LABELS = dict(LANGUAGES)
COUNTRY_LABELS = dict(COUNTRIES)


# A house number as staff may type it: the number, then perhaps an addition ("12a", "12 A", "12-2", "12 bis").
HOUSE_NUMBER = re.compile(r"^(\d{1,6})\s*[-/]?\s*([A-Za-z0-9]{1,10})?$")
HOUSE_NUMBER_HELP = _l("A house number is a whole number, like 41. An addition such as \"a\" or \"2\" goes in the "
                       "Addition field.")


def split_house_number(text):
    """(number, addition) of a house number as typed: "12a" -> (12, "a"); None when it is no house number."""
    found = HOUSE_NUMBER.match(" ".join((text or "").split()))
    return (int(found.group(1)), found.group(2) or "") if found else None


class TypedLength(Length):
    """Length(max=...) of what was typed, for a field whose data is what it parsed from it."""

    def __call__(self, form, field):
        typed = field.raw_data[0] if field.raw_data else ""
        super().__call__(form, SimpleNamespace(data=typed, gettext=field.gettext, ngettext=field.ngettext))


class HouseNumberField(StringField):
    """A house number: a whole number; an addition typed with it ("12a") is kept apart in `addition`
    (CustomerForm moves it to the addition field). What was typed is shown again when it is no number."""

    addition = ""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        parsed = split_house_number(self.data)
        self.data, self.addition = parsed if parsed else (None, "")

    def _value(self):
        if self.data is None and self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


def parse_birth_date(text):
    """dd-mm-jjjj as staff type it (a birth date or any other day); None when it is not such a date."""
    try:
        return datetime.strptime((text or "").strip(), "%d-%m-%Y").date()
    except ValueError:
        return None


class CustomerForm(FlaskForm):
    """Every field of a customer, with the signup's rules: the signup and a correction ("Wijzig") share it."""

    initials = StringField(_l("Initials"), validators=[Optional(), Length(max=20)])
    prefix = StringField(_l("Surname prefix"), validators=[Optional(), Length(max=20)])
    surname = StringField(_l("Surname"), validators=[InputRequired(), Length(max=80)])
    first_name = StringField(_l("First name"), validators=[Optional(), Length(max=60)])
    birth_date = StringField(_l("Birth date (dd-mm-yyyy)"), validators=[InputRequired(), Length(max=10)])
    language = SelectField(_l("Preferred language"), choices=LANGUAGES, default="nl")
    country = SelectField(_l("Country"), choices=COUNTRIES, default="NL")
    postcode = StringField(_l("Postcode"), validators=[InputRequired(), Length(max=10)])
    house_number = HouseNumberField(
        _l("House number"), validators=[InputRequired(message=_l("Enter the house number in digits.")),
                                        TypedLength(max=20)],
    )
    house_number_addition = StringField(_l("Addition"), validators=[Optional(), Length(max=10)])
    address_manual = BooleanField(_l("Enter street and city by hand"))
    street = StringField(_l("Street"), validators=[Optional(), Length(max=120)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=80)])
    postal_street = StringField(_l("Street or PO box"), validators=[Optional(), Length(max=120)])
    postal_house_number = StringField(_l("Number"), validators=[Optional(), Length(max=20)])
    postal_postcode = StringField(_l("Postcode"), validators=[Optional(), Length(max=10)])
    postal_city = StringField(_l("City"), validators=[Optional(), Length(max=80)])
    person_kind = RadioField(_l("Person or institution"), choices=list(PERSON_KIND_LABELS.items()), default="n/a")
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30)])
    sms_number = StringField(_l("SMS number"), validators=[Optional(), Length(max=30)])
    iban = StringField(_l("IBAN for SEPA direct debit"), validators=[Optional(), Length(max=42)])
    bic = StringField(_l("BIC"), validators=[Optional(), Length(max=14)])
    identity_checked = RadioField(_l("Identity document checked?"), choices=YES_NO, default="no")
    identity_document = SelectField(_l("Document type"), choices=IDENTITY_DOCUMENTS, default="")
    email = EmailField(_l("Email"), validators=[Optional(), Email(), Length(max=254)])
    newsletter = BooleanField(_l("Newsletter"))
    keep_loan_history = RadioField(_l("Keep loan history?"), choices=YES_NO, default="no")
    warn_borrowed_before = RadioField(_l("Warn 'title borrowed before'?"), choices=YES_NO, default="no")
    remark = TextAreaField(_l("Remark"), validators=[Optional(), Length(max=1000)])

    derived_bic = ""

    @classmethod
    def for_customer(cls, customer):
        """The form filled with a saved customer's values (for a GET of the correction form)."""
        return cls(data=cls.saved_values(customer))

    @staticmethod
    def saved_values(customer):
        return {
            "initials": customer.initials, "prefix": customer.prefix, "surname": customer.surname,
            "first_name": customer.first_name, "birth_date": customer.birth_date.strftime("%d-%m-%Y"),
            "language": customer.language, "country": customer.country, "postcode": customer.postcode,
            "house_number": customer.house_number, "house_number_addition": customer.house_number_addition,
            "address_manual": False, "street": customer.street, "city": customer.city,
            "person_kind": customer.person_kind.value, "phone": customer.phone, "sms_number": customer.sms_number,
            "iban": addresses.format_iban(customer.iban) if customer.iban else "", "bic": customer.bic,
            "identity_checked": "yes" if customer.identity_checked else "no",
            "identity_document": customer.identity_document, "email": customer.email,
            "newsletter": customer.newsletter, "keep_loan_history": "yes" if customer.keep_loan_history else "no",
            "warn_borrowed_before": "yes" if customer.warn_borrowed_before else "no",
            "postal_street": customer.postal_street, "postal_house_number": customer.postal_house_number,
            "postal_postcode": customer.postal_postcode, "postal_city": customer.postal_city,
            "remark": customer.remark,
        }

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        postal = [self.postal_street, self.postal_house_number, self.postal_postcode, self.postal_city]
        if not any(f.errors for f in postal):
            try:
                values = addresses.settle_postal_address(*(f.data for f in postal))
            except Refused as error:
                getattr(self, error.field).errors.append(error.message)
                return False
            for f, value in zip(postal, values, strict=True):
                f.data = value
        return valid

    def validate_house_number(self, field):
        if field.data is None or not 1 <= field.data <= 99999:
            raise ValidationError(HOUSE_NUMBER_HELP)
        if field.addition:
            # "12a" typed in the house number: the "a" is the addition.
            typed = (self.house_number_addition.data or "").strip()
            if not typed:
                self.house_number_addition.data = field.addition
            elif typed.lower() != field.addition.lower():
                raise ValidationError(_l("The house number has the addition %(typed)s and the Addition field "
                                         "%(other)s: keep one.", typed=field.addition, other=typed))
    def validate_surname(self, field):
        if not (field.data or "").strip():
            raise ValidationError(_l("Enter the surname."))

    def validate_birth_date(self, field):
        born = parse_birth_date(field.data)
        if born is None:
            raise ValidationError(_l("Enter the birth date as dd-mm-yyyy, e.g. 04-01-1991."))
        if born > pricing.branch_today():
            raise ValidationError(_l("The birth date cannot be in the future."))
        if born < date(1900, 1, 1):
            raise ValidationError(_l("Check the year of birth."))

    def validate_postcode(self, field):
        try:
            field.data = addresses.normalise_postcode(field.data, self.country.data)
        except Refused as error:
            raise ValidationError(error.message) from None

    def validate_iban(self, field):
        if field.data:
            try:
                field.data, self.derived_bic = addresses.validate_iban(field.data)
            except Refused as error:
                raise ValidationError(error.message) from None
            field.data = addresses.format_iban(field.data)

    def validate_bic(self, field):
        if field.data and not (self.iban.data or "").strip():
            raise ValidationError(_l("A BIC goes with an IBAN: enter the IBAN too, or leave the BIC empty."))
        try:
            field.data = addresses.validate_bic(field.data, self.derived_bic)
        except Refused as error:
            raise ValidationError(error.message) from None

    def birth_date_value(self):
        return parse_birth_date(self.birth_date.data)

    def customer_details(self) -> CustomerDetails:
        """The customer's columns from the form (street and city as addresses.settle_address settled them)."""
        iban = (self.iban.data or "").replace(" ", "")
        return CustomerDetails(
            initials=(self.initials.data or "").strip(),
            prefix=(self.prefix.data or "").strip(),
            surname=self.surname.data.strip(),
            first_name=(self.first_name.data or "").strip(),
            birth_date=self.birth_date_value(),
            language=self.language.data,
            country=self.country.data,
            postcode=self.postcode.data,
            house_number=self.house_number.data,
            house_number_addition=(self.house_number_addition.data or "").strip(),
            street=(self.street.data or "").strip(),
            city=(self.city.data or "").strip(),
            person_kind=PersonKind(self.person_kind.data),
            phone=(self.phone.data or "").strip(),
            sms_number=(self.sms_number.data or "").strip(),
            iban=iban,
            bic=addresses.validate_bic(self.bic.data, addresses.validate_iban(iban)[1]) if iban else "",
            identity_checked=self.identity_checked.data == "yes",
            identity_document=self.identity_document.data if self.identity_checked.data == "yes" else "",
            email=(self.email.data or "").strip(),
            newsletter=bool(self.newsletter.data),
            keep_loan_history=self.keep_loan_history.data == "yes",
            warn_borrowed_before=self.warn_borrowed_before.data == "yes",
            postal_street=self.postal_street.data or "",
            postal_house_number=self.postal_house_number.data or "",
            postal_postcode=self.postal_postcode.data or "",
            postal_city=self.postal_city.data or "",
            remark=(self.remark.data or "").strip(),
        )


class SignupForm(CustomerForm):
    card_number = StringField(_l("Card number"), validators=[Length(max=20)])
    tariff = RadioField(
        _l("Subscription"), choices=[], validate_choice=False,
        validators=[InputRequired(message=_l("Choose a subscription."))],
    )
    confirm_duplicate = BooleanField(_l("This is a different person: save anyway"))
    discount_kind = RadioField(_l("Discount as"), choices=DISCOUNT_KINDS, default="amount")
    discount = StringField(_l("Discount"), validators=[Optional(), Length(max=12)])
    discount_reason = SelectField(_l("Reason for the discount"), choices=[], validate_choice=False)

    unit = None  # the branch, set by the route: its accepted card formats

    def offer_discount_reasons(self, reasons):
        self.discount_reason.choices = [("", _l("(choose a reason)")), *((r, r) for r in reasons)]

    def validate_discount(self, field):
        if self.discount_value() is None:
            raise ValidationError(DISCOUNT_NUMBER_HELP)

    def discount_value(self):
        """The number typed as the discount (0 when empty): whole cents for an amount, a whole number
        for a percentage; None when it is not such a number."""
        text = (self.discount.data or "").replace("€", "").replace("%", "").replace(" ", "").replace(",", ".")
        if not text:
            return Decimal(0)
        try:
            value = Decimal(text)
        except InvalidOperation:
            return None
        places = 0 if self.discount_kind.data == "percent" else 2
        if not value.is_finite() or value < 0 or value != round(value, places):
            return None
        return value

    def requested_discount(self):
        """The discount staff ask for (pricing.check_discount judges it); None when there is none or
        the number is not one."""
        value = self.discount_value()
        if not value:
            return None
        reason = (self.discount_reason.data or "").strip()
        if self.discount_kind.data == "percent":
            return Discount(reason=reason, percent=int(value))
        return Discount(reason=reason, cents=int(value * 100))

    def wants_generated_number(self):
        return (self.card_number.data or "").strip().upper() in ("V", cards.GENERATE_PLACEHOLDER)

    def scanned_card_number(self):
        return None if self.wants_generated_number() else (self.card_number.data or "").strip()

    def validate_card_number(self, field):
        value = (field.data or "").strip()
        if not value:
            raise ValidationError(_l("Scan the card, or type v and press Enter to generate a number."))
        if self.wants_generated_number():
            field.data = cards.GENERATE_PLACEHOLDER
            return
        try:
            cards.check_scanned_card_number(self.unit, value)
        except Refused as error:
            raise ValidationError(error.message) from None

    def validate_tariff(self, field):
        # The choices are the tariffs the customer's age allows (set by the route).
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("This subscription is not available at this age."))


class CorrectionForm(SignupForm):
    """"Wijzig": every signup field, the card number and the subscription too. The number the
    customer has and the tariff taken pass as they are (and may be kept)."""

    customer = None  # set by the route
    # A discount is given at the signup: a correction keeps the one given.
    discount_kind = discount = discount_reason = None

    def requested_discount(self):
        return None

    @staticmethod
    def saved_values(customer):
        sub = customer.subscription
        return {**CustomerForm.saved_values(customer), "card_number": customer.card_number,
                "tariff": str(sub.tariff_id) if sub and sub.tariff_id else ""}

    def keeps_card_number(self):
        return (self.card_number.data or "").strip() == self.customer.card_number

    def new_card_number(self):
        """None to keep the number, GENERATE_PLACEHOLDER for the branch's next one, or the scanned number."""
        if self.keeps_card_number():
            return None
        return cards.GENERATE_PLACEHOLDER if self.wants_generated_number() else self.scanned_card_number()

    def validate_card_number(self, field):
        if not self.keeps_card_number():
            super().validate_card_number(field)


class EndCustomerForm(FlaskForm):
    """"Klant afsluiten": the day the subscription ends and why."""

    ends_on = StringField(_l("End on (dd-mm-yyyy)"), validators=[InputRequired(), Length(max=10)])
    reason = StringField(_l("Reason"), validators=[InputRequired(), Length(max=200)])

    def validate_ends_on(self, field):
        if parse_birth_date(field.data) is None:
            raise ValidationError(_l("Enter the day as dd-mm-yyyy, e.g. 01-06-2025."))

    def validate_reason(self, field):
        if not (field.data or "").strip():
            raise ValidationError(_l("Give the reason for ending the subscription."))

    def ends_on_value(self):
        return parse_birth_date(self.ends_on.data)


# A search: a card number or the start of a surname (80 characters at most) is shorter.
SEARCH_MAX_LENGTH = 100


class CustomerSearchForm(FlaskForm):
    q = SearchField(_l("Card number or surname"), validators=[Optional(), Length(max=SEARCH_MAX_LENGTH)])


class BranchSettingsForm(FlaskForm):
    """A service admin sets where the branch's customers log in and which cards its scanners read."""

    login_url = StringField(_l("Library website for the first login"), validators=[Optional(), Length(max=200)])
    card_formats = SelectMultipleField(
        _l("Accepted scanned card numbers"), option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
    )
    discount_reasons = TextAreaField(_l("Reasons for a discount, one a line"),
                                     validators=[Optional(), Length(max=1000)])
    # Left empty: what is saved stays.
    max_discount_percent = IntegerField(
        _l("Highest discount staff may give, in percent of the subscription fee"),
        validators=[Optional(), NumberRange(min=0, max=100, message=_l("Enter a whole number from 0 to 100."))],
    )

    def validate_card_formats(self, field):
        # Not InputRequired: that would mark every checkbox required, and one is enough.
        if not field.data:
            raise ValidationError(_l("Choose at least one card format."))


class TariffForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=80)])
    price_cents = IntegerField(_l("Price in cents"), validators=[InputRequired(), NumberRange(min=0, max=1_000_000)])
    period_months = IntegerField(_l("Period in months"), validators=[InputRequired(), NumberRange(min=1, max=120)])
    min_age = IntegerField(_l("Lowest age"), validators=[Optional(), NumberRange(min=0, max=130)])
    max_age = IntegerField(_l("Highest age"), validators=[Optional(), NumberRange(min=0, max=130)])
    kind = SelectField(_l("Kind"), choices=[(k.value, label) for k, label in TARIFF_KIND_LABELS.items()])
    needs_direct_debit = BooleanField(_l("Needs monthly direct debit"))
    digital_only = BooleanField(_l("Digital only"))
    trial = BooleanField(_l("Trial subscription"))
    active = BooleanField(_l("Offered at the counter"))

    def validate_max_age(self, field):
        if field.data is not None and self.min_age.data is not None and field.data < self.min_age.data:
            raise ValidationError(_l("The highest age cannot be below the lowest age."))

    def validate_kind(self, field):
        if field.errors:
            return  # not one of the kinds (empty or unknown): the choice check has said so
        field.data = TariffKind(field.data)

    def values(self):
        """The tariff's columns as entered, for pricing.save_tariff."""
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}
