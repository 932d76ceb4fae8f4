from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from blueprints.chat.retention import MAX_KEEP_DAYS
from blueprints.chat.service import (
    MESSAGE_MAX_LENGTH,
    NAME_MAX_LENGTH,
    TRANSFER_NOTE_MAX_LENGTH,
    WAITING_MESSAGE_MAX_LENGTH,
)
from blueprints.chat.statistics import MAX_DAYS
from extensions import LANGUAGES

DAYS_MESSAGE = _l("Give a whole number of days from 0 to %(max)d.", max=MAX_KEEP_DAYS)
EMAIL_MESSAGE = _l("Enter an email address like name@example.fi.")


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class JoinForm(FlaskForm):
    queue = SelectField(_l("Queue"), coerce=int, validators=[DataRequired(_l("Choose a queue."))])
    name = StringField(_l("Your name"), validators=[DataRequired(_l("Give a name.")), Length(max=NAME_MAX_LENGTH)])
    question = TextAreaField(_l("Your question (optional)"), validators=[Optional(), Length(max=MESSAGE_MAX_LENGTH)])


class ServiceLoginForm(FlaskForm):
    queues = CheckboxList(_l("Queues I serve"), coerce=int, validators=[DataRequired(_l("Choose at least one queue."))])
    display_name = StringField(_l("Name customers see (optional)"), validators=[Optional(), Length(max=NAME_MAX_LENGTH)])


class WaitingMessageForm(FlaskForm):
    waiting_message = TextAreaField(_l("Waiting message"), validators=[Length(max=WAITING_MESSAGE_MAX_LENGTH)])


class QueueForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Give a name.")), Length(max=120)])
    unit = SelectField(_l("Unit"), coerce=int)
    is_open = BooleanField(_l("Open"))
    waiting_message = TextAreaField(_l("Waiting message"), validators=[Length(max=WAITING_MESSAGE_MAX_LENGTH)])
    keep_days = IntegerField(
        _l("Keep transcripts for (days after the chat ends)"), default=0,
        # Left empty: 0, the library's default (not kept).
        validators=[Optional(), NumberRange(min=0, max=MAX_KEEP_DAYS, message=DAYS_MESSAGE)],
        filters=[lambda days: 0 if days is None else days],
    )
    anonymise_after_days = IntegerField(
        _l("Anonymise customer names after (days, optional)"),
        validators=[Optional(), NumberRange(min=0, max=MAX_KEEP_DAYS, message=DAYS_MESSAGE)],
    )
    contact_email = EmailField(
        _l("Contact email for questions when nobody serves (optional)"),
        validators=[Optional(), Email(EMAIL_MESSAGE), Length(max=254)],
    )

    def validate_anonymise_after_days(self, field):
        keep = self.keep_days.data or 0
        if field.data is not None and not self.keep_days.errors and field.data > keep:
            # A transcript is gone after keep_days, so a later anonymisation would never happen.
            raise ValidationError(_("At most the days transcripts are kept (%(days)d).", days=keep))


class TranscriptForm(FlaskForm):
    """An agent emails the transcript to the customer, at the customer's request."""

    email = EmailField(_l("Customer's email address"),
                       validators=[InputRequired(_l("Give the customer's email address.")), Email(EMAIL_MESSAGE), Length(max=254)])
    language = SelectField(_l("Language of the email"), choices=list(LANGUAGES.items()))


class QuestionForm(FlaskForm):
    """A waiting customer of an unstaffed queue leaves a question by email instead."""

    email = EmailField(_l("Your email address"),
                       validators=[InputRequired(_l("Give your email address, so that the library can answer.")),
                                   Email(EMAIL_MESSAGE), Length(max=254)])
    question = TextAreaField(_l("Your question"),
                             validators=[DataRequired(_l("Write your question.")), Length(max=MESSAGE_MAX_LENGTH)])


def optional_id(value):
    """A select's value as an id; the empty "choose" option is None."""
    return int(value) if value not in (None, "") else None


class TransferForm(FlaskForm):
    target = SelectField(_l("Target queue"), coerce=optional_id, validators=[DataRequired(_l("Choose a queue."))])
    note = TextAreaField(_l("Note for the next agent (optional)"),
                         validators=[Optional(), Length(max=TRANSFER_NOTE_MAX_LENGTH)])


class IsoDateField(DateField):
    """A date as <input type="date"> sends it, with a message that says how to write one."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Give a date as YYYY-MM-DD.")) from None


class StatisticsForm(FlaskForm):
    """The period and queue of the statistics; a GET filter that changes nothing, so no CSRF token."""

    class Meta:
        csrf = False

    start = IsoDateField(_l("From"), validators=[DataRequired(_l("Give a date as YYYY-MM-DD."))])
    end = IsoDateField(_l("To"), validators=[DataRequired(_l("Give a date as YYYY-MM-DD."))])
    queue = SelectField(_l("Queue"), coerce=optional_id)

    def validate_end(self, field):
        if self.start.data and field.data:
            if field.data < self.start.data:
                raise ValidationError(_l("The end date is before the start date."))
            if (field.data - self.start.data).days >= MAX_DAYS:
                raise ValidationError(_l("Choose at most %(days)d days.", days=MAX_DAYS))
