from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    RadioField,
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
    RegisteredBy,
)
from blueprints.registration.service import ASK_WHO_REGISTERS, FIELDS, GUARDIAN_REQUIRED
from common.clock import local_today
from extensions import LANGUAGES

REQUIRED = _l("This field is required.")
GUARDIAN_FIELDS = ("registered_by", "guardian_name", "guardian_email", "guardian_phone",
                   "consent_given_by", "consent_date", "consent_method")


def _choices(labels):
    return [(str(k), v) for k, v in labels.items()]


class CustomerForm(FlaskForm):
    """The customer's details. `guardian_rule` (from the birth date) and `bases` are set by the view."""

    first_name = StringField(_l("First name"), validators=[InputRequired(REQUIRED), Length(max=80)])
    last_name = StringField(_l("Last name"), validators=[InputRequired(REQUIRED), Length(max=80)])
    email = EmailField(_l("Email"), validators=[Optional(), Email(_l("Enter an email address like name@example.fi.")), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    language = SelectField(_l("Language"), choices=list(LANGUAGES.items()), default="fi")
    basis = SelectField(_l("Basis for service"), choices=_choices(BASIS_LABELS))
    service_form = RadioField(_l("Service form"), choices=_choices(SERVICE_FORM_LABELS), default="net", validators=[InputRequired(REQUIRED)])
    channel = RadioField(_l("Registered"), choices=_choices(CHANNEL_LABELS), default="face_to_face", validators=[InputRequired(REQUIRED)])
    review_date = DateField(_l("Review date (optional, for a temporary need)"), validators=[Optional()])
    registered_by = RadioField(_l("Who registers"), choices=_choices(REGISTERED_BY_LABELS), validators=[Optional()])
    guardian_name = StringField(_l("Guardian's name"), validators=[Optional(), Length(max=160)])
    guardian_email = EmailField(_l("Guardian's email"), validators=[Optional(), Email(_l("Enter an email address like name@example.fi.")), Length(max=254)])
    guardian_phone = StringField(_l("Guardian's phone"), validators=[Optional(), Length(max=40)])
    consent_given_by = StringField(_l("Consent given by"), validators=[Optional(), Length(max=160)])
    consent_date = DateField(_l("Consent given on"), validators=[Optional()])
    consent_method = StringField(_l("How the consent was given"), validators=[Optional(), Length(max=160)])
    additional_info = TextAreaField(_l("Additional info"), validators=[Optional(), Length(max=2000)])

    guardian_rule = None
    born = None  # the customer's birth date, set by the view (or typed, without an identity code)

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
        guardian_part = self.guardian_rule == GUARDIAN_REQUIRED or (
            self.guardian_rule == ASK_WHO_REGISTERS and self.registered_by.data == RegisteredBy.GUARDIAN
        )
        if self.guardian_rule == ASK_WHO_REGISTERS and not self.registered_by.data:
            self.registered_by.errors.append(_l("Choose whether the young person or a guardian registers."))
            ok = False
        if guardian_part:
            for f in (self.guardian_name, self.consent_given_by, self.consent_date, self.consent_method):
                if not f.data:
                    f.errors.append(_l("Required: under 15 (or when a guardian registers) the guardian's consent is needed."))
                    ok = False
            if not (self.guardian_email.data or self.guardian_phone.data):
                self.guardian_email.errors.append(_l("Give the guardian's email or phone."))
                ok = False
        return ok

    def values(self):
        data = {name: self[name].data for name in FIELDS}
        for k, v in data.items():
            if isinstance(v, str):
                data[k] = v.strip()
        if self.guardian_rule not in (GUARDIAN_REQUIRED, ASK_WHO_REGISTERS):
            # No guardian part on the form (18 or over): keep what was recorded earlier.
            for name in GUARDIAN_FIELDS:
                data.pop(name)
        elif self.guardian_rule == GUARDIAN_REQUIRED:
            data["registered_by"] = RegisteredBy.GUARDIAN
        return data


# The customer's fields by name, as their labels say (the history names the fields a change touched).
FIELD_LABELS = {name: getattr(CustomerForm, name).args[0] for name in FIELDS}


class NewCustomerForm(CustomerForm):
    hetu = HiddenField()


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
