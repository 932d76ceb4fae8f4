from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from blueprints.chat.service import (
    MESSAGE_MAX_LENGTH, NAME_MAX_LENGTH, TRANSFER_NOTE_MAX_LENGTH, WAITING_MESSAGE_MAX_LENGTH,
)
from blueprints.chat.statistics import MAX_DAYS


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
