from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from blueprints.chat.service import MESSAGE_MAX_LENGTH, NAME_MAX_LENGTH, WAITING_MESSAGE_MAX_LENGTH


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
