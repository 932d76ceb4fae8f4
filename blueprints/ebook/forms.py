from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
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

from blueprints.ebook import service
from blueprints.ebook.models import (
    PERSON_KIND_LABELS,
    TARIFF_KIND_LABELS,
    PersonKind,
    TariffKind,
)
from common.refusals import Refused

YES_NO = [("yes", _l("Yes")), ("no", _l("No"))]
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
    house_number = IntegerField(
        _l("House number"),
        validators=[InputRequired(message=_l("Enter the house number in digits.")), NumberRange(min=1, max=99999)],
    )
    house_number_addition = StringField(_l("Addition"), validators=[Optional(), Length(max=10)])
    address_manual = BooleanField(_l("Enter street and city by hand"))
    street = StringField(_l("Street"), validators=[Optional(), Length(max=120)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=80)])
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
            "iban": service.format_iban(customer.iban) if customer.iban else "", "bic": customer.bic,
            "identity_checked": "yes" if customer.identity_checked else "no",
            "identity_document": customer.identity_document, "email": customer.email,
            "newsletter": customer.newsletter, "keep_loan_history": "yes" if customer.keep_loan_history else "no",
            "warn_borrowed_before": "yes" if customer.warn_borrowed_before else "no",
        }

    def validate_surname(self, field):
        if not (field.data or "").strip():
            raise ValidationError(_l("Enter the surname."))

    def validate_birth_date(self, field):
        born = parse_birth_date(field.data)
        if born is None:
            raise ValidationError(_l("Enter the birth date as dd-mm-yyyy, e.g. 04-01-1991."))
        if born > service.branch_today():
            raise ValidationError(_l("The birth date cannot be in the future."))
        if born < date(1900, 1, 1):
            raise ValidationError(_l("Check the year of birth."))

    def validate_postcode(self, field):
        try:
            field.data = service.normalise_postcode(field.data, self.country.data)
        except Refused as error:
            raise ValidationError(error.message) from None

    def validate_iban(self, field):
        if field.data:
            try:
                field.data, self.derived_bic = service.validate_iban(field.data)
            except Refused as error:
                raise ValidationError(error.message) from None
            field.data = service.format_iban(field.data)

    def validate_bic(self, field):
        if field.data and not (self.iban.data or "").strip():
            raise ValidationError(_l("A BIC goes with an IBAN: enter the IBAN too, or leave the BIC empty."))
        try:
            field.data = service.validate_bic(field.data, self.derived_bic)
        except Refused as error:
            raise ValidationError(error.message) from None

    def birth_date_value(self):
        return parse_birth_date(self.birth_date.data)

    def customer_details(self):
        """The customer's columns from the form (address and card number are settled by the route)."""
        iban = (self.iban.data or "").replace(" ", "")
        return {
            "initials": (self.initials.data or "").strip(),
            "prefix": (self.prefix.data or "").strip(),
            "surname": self.surname.data.strip(),
            "first_name": (self.first_name.data or "").strip(),
            "birth_date": self.birth_date_value(),
            "language": self.language.data,
            "country": self.country.data,
            "postcode": self.postcode.data,
            "house_number": self.house_number.data,
            "house_number_addition": (self.house_number_addition.data or "").strip(),
            "street": (self.street.data or "").strip(),
            "city": (self.city.data or "").strip(),
            "person_kind": PersonKind(self.person_kind.data),
            "phone": (self.phone.data or "").strip(),
            "sms_number": (self.sms_number.data or "").strip(),
            "iban": iban,
            "bic": service.validate_bic(self.bic.data, service.validate_iban(iban)[1]) if iban else "",
            "identity_checked": self.identity_checked.data == "yes",
            "identity_document": self.identity_document.data if self.identity_checked.data == "yes" else "",
            "email": (self.email.data or "").strip(),
            "newsletter": bool(self.newsletter.data),
            "keep_loan_history": self.keep_loan_history.data == "yes",
            "warn_borrowed_before": self.warn_borrowed_before.data == "yes",
        }


class SignupForm(CustomerForm):
    card_number = StringField(_l("Card number"), validators=[Length(max=20)])
    tariff = RadioField(
        _l("Subscription"), choices=[], validate_choice=False,
        validators=[InputRequired(message=_l("Choose a subscription."))],
    )
    confirm_duplicate = BooleanField(_l("This is a different person: save anyway"))

    unit = None  # the branch, set by the route: its accepted card formats

    def wants_generated_number(self):
        return (self.card_number.data or "").strip().upper() in ("V", service.GENERATE_PLACEHOLDER)

    def scanned_card_number(self):
        return None if self.wants_generated_number() else (self.card_number.data or "").strip()

    def validate_card_number(self, field):
        value = (field.data or "").strip()
        if not value:
            raise ValidationError(_l("Scan the card, or type v and press Enter to generate a number."))
        if self.wants_generated_number():
            field.data = service.GENERATE_PLACEHOLDER
            return
        try:
            service.check_scanned_card_number(self.unit, value)
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
        return service.GENERATE_PLACEHOLDER if self.wants_generated_number() else self.scanned_card_number()

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


class BranchSettingsForm(FlaskForm):
    """A service admin sets where the branch's customers log in and which cards its scanners read."""

    login_url = StringField(_l("Library website for the first login"), validators=[Optional(), Length(max=200)])
    card_formats = SelectMultipleField(
        _l("Accepted scanned card numbers"), option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
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
