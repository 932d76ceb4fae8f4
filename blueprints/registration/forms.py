from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    RadioField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from blueprints.registration.models import (
    BASIS_LABELS,
    CHANNEL_LABELS,
    REGISTERED_BY_LABELS,
    SERVICE_FORM_LABELS,
    Basis,
    Channel,
    RegisteredBy,
    ServiceForm,
)
from blueprints.registration.service import (
    ASK_WHO_REGISTERS,
    FIELDS,
    GUARDIAN_REQUIRED,
    CustomerDetails,
    GuardianConsent,
)
from common.clock import local_today
from extensions import LANGUAGES

REQUIRED = _l("This field is required.")
EMAIL = _l("Enter an email address like name@example.fi.")


def _choices(labels):
    return [(str(k), v) for k, v in labels.items()]


class CustomerForm(FlaskForm):
    """The customer's details. `guardian_rule` (from the birth date) and `bases` are set by the view."""

    first_name = StringField(_l("First name"), validators=[InputRequired(REQUIRED), Length(max=80)])
    last_name = StringField(_l("Last name"), validators=[InputRequired(REQUIRED), Length(max=80)])
    email = EmailField(_l("Email"), validators=[Optional(), Email(EMAIL), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    language = SelectField(_l("Language"), choices=list(LANGUAGES.items()), default="fi")
    basis = SelectField(_l("Basis for service"), choices=_choices(BASIS_LABELS))
    service_form = RadioField(_l("Service form"), choices=_choices(SERVICE_FORM_LABELS), default="net",
                              validators=[InputRequired(REQUIRED)])
    channel = RadioField(_l("Registered"), choices=_choices(CHANNEL_LABELS), default="face_to_face",
                         validators=[InputRequired(REQUIRED)])
    review_date = DateField(_l("Review date (optional, for a temporary need)"), validators=[Optional()])
    registered_by = RadioField(_l("Who registers"), choices=_choices(REGISTERED_BY_LABELS), validators=[Optional()])
    guardian_name = StringField(_l("Guardian's name"), validators=[Optional(), Length(max=160)])
    guardian_email = EmailField(_l("Guardian's email"), validators=[Optional(), Email(EMAIL), Length(max=254)])
    guardian_phone = StringField(_l("Guardian's phone"), validators=[Optional(), Length(max=40)])
    consent_given_by = StringField(_l("Consent given by"), validators=[Optional(), Length(max=160)])
    consent_date = DateField(_l("Consent given on"), validators=[Optional()])
    consent_method = StringField(_l("How the consent was given"), validators=[Optional(), Length(max=160)])
    additional_info = TextAreaField(_l("Additional info"), validators=[Optional(), Length(max=2000)])

    born = None  # the customer's birth date, set by the view (or typed, without an identity code)
    _guardian_rule: str | None = None

    @property
    def guardian_rule(self) -> str | None:
        return self._guardian_rule

    @guardian_rule.setter
    def guardian_rule(self, rule: str | None) -> None:
        """The rule also marks what it requires (the fields' mark and their `required`), as the
        validation below asks for it: who registers from 15 to 17, the consent under 15 or when
        a guardian registers."""
        self._guardian_rule = rule
        self.registered_by.flags.required = rule == ASK_WHO_REGISTERS
        for f in self._consent_fields():
            f.flags.required = self.guardian_part_required

    @property
    def guardian_part_required(self) -> bool:
        return self.guardian_rule == GUARDIAN_REQUIRED or (
            self.guardian_rule == ASK_WHO_REGISTERS and self.registered_by.data == RegisteredBy.GUARDIAN
        )

    def _consent_fields(self):
        return (self.guardian_name, self.consent_given_by, self.consent_date, self.consent_method)

    def validate_first_name(self, field):
        if not (field.data or "").strip():
            raise ValidationError(REQUIRED)  # spaces only are no name

    def validate_last_name(self, field):
        if not (field.data or "").strip():
            raise ValidationError(REQUIRED)

    def validate_review_date(self, field):
        # A reminder within ten years; an old one may stay on a customer whose review has passed.
        if field.data and not (date(2000, 1, 1) <= field.data <= local_today() + timedelta(days=3653)):
            raise ValidationError(_l("Choose a review date within ten years from today."))

    def validate_consent_date(self, field):
        if field.data is None:
            return
        if field.data > local_today():
            raise ValidationError(_l("The consent cannot be given in the future."))
        if self.born is not None and field.data < self.born:
            raise ValidationError(_l("The consent cannot be given before the customer was born."))
        if field.data < local_today() - timedelta(days=25 * 366):
            raise ValidationError(_l("Check the year of the consent."))

    def set_bases(self, bases):
        self.basis.choices = [(str(b), BASIS_LABELS[b]) for b in bases]

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.guardian_rule == ASK_WHO_REGISTERS and not self.registered_by.data:
            self.registered_by.errors.append(_l("Choose whether the young person or a guardian registers."))
            ok = False
        if self.guardian_part_required:
            for f in self._consent_fields():
                if not f.data:
                    f.errors.append(
                        _l("Required: under 15 (or when a guardian registers) the guardian's consent is needed.")
                    )
                    ok = False
            if not (self.guardian_email.data or self.guardian_phone.data):
                self.guardian_email.errors.append(_l("Give the guardian's email or phone."))
                ok = False
        return ok

    def values(self) -> CustomerDetails:
        """The details as typed, their text stripped; the guardian part only when the form has one
        (without it, 18 or over, what was recorded earlier is kept)."""
        guardian = None
        if self.guardian_rule in (GUARDIAN_REQUIRED, ASK_WHO_REGISTERS):
            registered_by = self.registered_by.data
            if self.guardian_rule == GUARDIAN_REQUIRED:
                registered_by = RegisteredBy.GUARDIAN
            guardian = GuardianConsent(
                registered_by=RegisteredBy(registered_by) if registered_by else None,
                guardian_name=self._text("guardian_name"),
                guardian_email=self._text("guardian_email"),
                guardian_phone=self._text("guardian_phone"),
                consent_given_by=self._text("consent_given_by"),
                consent_date=self.consent_date.data,
                consent_method=self._text("consent_method"),
            )
        return CustomerDetails(
            first_name=self._text("first_name"),
            last_name=self._text("last_name"),
            email=self._text("email"),
            phone=self._text("phone"),
            language=self.language.data,
            basis=Basis(self.basis.data),
            service_form=ServiceForm(self.service_form.data),
            channel=Channel(self.channel.data),
            review_date=self.review_date.data,
            additional_info=self._text("additional_info"),
            guardian=guardian,
        )

    def _text(self, name: str) -> str:
        return (self[name].data or "").strip()


# The customer's fields by name, as their labels say (the history names the fields a change touched).
FIELD_LABELS = {name: getattr(CustomerForm, name).args[0] for name in FIELDS}


class NewCustomerForm(CustomerForm):
    hetu = HiddenField(validators=[Length(max=11)])  # the route puts the parsed code here


# A name search: longer text names nobody (names have at most 80 characters) and would reach the
# database as a pattern it refuses (SQLite's LIKE: 50 KB).
SEARCH_MAX_LENGTH = 100


class NameSearchForm(FlaskForm):
    q = SearchField(_l("Surname or first name begins with"), validators=[Optional(), Length(max=SEARCH_MAX_LENGTH)])


class WithoutHetuForm(CustomerForm):
    birth_date = DateField(_l("Date of birth"), validators=[InputRequired(REQUIRED)])
    unit = SelectField(_l("Unit"), coerce=int)

    def validate_birth_date(self, field):
        if field.data is None:  # missing or not a date: said by the field's own validators
            return
        if field.data > local_today():
            raise ValidationError(_l("The date of birth is in the future."))
        if field.data < date(1900, 1, 1):
            raise ValidationError(_l("Check the year of birth."))

    def validate(self, extra_validators=None):
        # The guardian rule follows from the birth date: without a sane one, no consent is asked.
        born = self.birth_date.data
        if born is None or not (date(1900, 1, 1) <= born <= local_today()):
            self.guardian_rule = None
        else:
            self.born = born
        return super().validate(extra_validators)


class TransferForm(FlaskForm):
    """The check's "Transfer to my unit": the basis for service in the new unit (the service
    says which it may be; `set_bases` offers those)."""

    basis = SelectField(_l("Basis for service"), validators=[InputRequired(REQUIRED)], validate_choice=False)

    def set_bases(self, bases, unit_name):
        self.basis.label.text = _l("Basis for service in %(unit)s", unit=unit_name)
        choices = [(str(b), BASIS_LABELS[b]) for b in bases]
        # One basis is chosen for the registrar; of several, they choose (none is taken for granted).
        self.basis.choices = choices if len(choices) == 1 else [("", _l("Choose…")), *choices]
