from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    RadioField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from blueprints.chat.canned import NAME_MAX_LENGTH as CANNED_NAME_MAX_LENGTH
from blueprints.chat.ratings import COMMENT_MAX_LENGTH, RATING_LABELS
from blueprints.chat.retention import MAX_KEEP_DAYS
from blueprints.chat.service import (
    MESSAGE_MAX_LENGTH,
    NAME_MAX_LENGTH,
    TRANSFER_NOTE_MAX_LENGTH,
    WAITING_MESSAGE_MAX_LENGTH,
)
from blueprints.chat.statistics import MAX_DAYS
from blueprints.chat.transcripts import SEARCH_TEXT_MAX_LENGTH
from extensions import LANGUAGES

INSTRUCTIONS_URL_MAX_LENGTH = 500


def is_web_address(url):
    """An http or https address with a host, and no spaces."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in url)


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
    display_name = StringField(_l("Name customers see (optional)"),
                               validators=[Optional(), Length(max=NAME_MAX_LENGTH)])


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
    asks_rating = BooleanField(_l("Ask customers whether they got the help they needed"))

    instructions_url = URLField(
        _l("Address of the customers' instructions (optional)"),
        validators=[Optional(), Length(max=INSTRUCTIONS_URL_MAX_LENGTH)],
        filters=[lambda url: (url or "").strip() or None],
    )

    def validate_instructions_url(self, field):
        # A web address the customer's browser opens: nothing else (no javascript:, no file:).
        if field.data and not is_web_address(field.data):
            raise ValidationError(_("Enter a web address that begins with https:// or http://, "
                                    "like https://www.library.fi/chat-instructions."))

    # The chat button on the library's website (blueprints/chat/widget.py); the origins are
    # checked by widget.parse_origins when the queue is saved.
    embed_origins = TextAreaField(_l("Websites that may show the chat button (optional)"),
                                  validators=[Length(max=4000)])
    # Not sent (an older form): the queue keeps its language.
    widget_language = SelectField(_l("Language of the chat button"), choices=list(LANGUAGES.items()),
                                  validate_choice=False)

    def validate_widget_language(self, field):
        if field.data is not None and field.data not in LANGUAGES:
            raise ValidationError(_("Choose a language from the list."))

    def validate_anonymise_after_days(self, field):
        keep = self.keep_days.data or 0
        if field.data is not None and not self.keep_days.errors and field.data > keep:
            # A transcript is gone after keep_days, so a later anonymisation would never happen.
            raise ValidationError(_("At most the days transcripts are kept (%(days)d).", days=keep))


class TranscriptForm(FlaskForm):
    """An agent emails the transcript to the customer, at the customer's request."""

    email = EmailField(_l("Customer's email address"),
                       validators=[InputRequired(_l("Give the customer's email address.")), Email(EMAIL_MESSAGE),
                                   Length(max=254)])
    language = SelectField(_l("Language of the email"), choices=list(LANGUAGES.items()))


CHOOSE_AN_ANSWER = _l("Choose yes, partly or no.")


class RatingForm(FlaskForm):
    """The customer's answer when the chat ended (blueprints/chat/ratings.py)."""

    answer = RadioField(_l("Did you get the help you needed?"),
                        choices=[(rating.value, label) for rating, label in RATING_LABELS.items()],
                        validate_choice=False,  # AnyOf says it in the customer's words
                        validators=[InputRequired(CHOOSE_AN_ANSWER),
                                    AnyOf([rating.value for rating in RATING_LABELS], CHOOSE_AN_ANSWER)])
    comment = TextAreaField(_l("Comment (optional)"), validators=[
        Optional(), Length(max=COMMENT_MAX_LENGTH,
                           message=_l("A comment can be at most %(max)d characters.", max=COMMENT_MAX_LENGTH))])


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


# The name of each language in the others' forms: "Text in Finnish (suomi)".
TEXT_LABELS = {
    "fi": _l("Text in Finnish"),
    "sv": _l("Text in Swedish"),
    "en": _l("Text in English"),
    "nl": _l("Text in Dutch"),
}


class CannedReplyForm(FlaskForm):
    """A canned reply: whose it is, a short name, and its text in one or more languages (the
    rules, such as "at least one text", are checked in blueprints/chat/canned.py)."""

    owner = SelectField(_l("Whose reply"), coerce=optional_id)
    name = StringField(_l("Short name"), validators=[DataRequired(_l("Give the reply a short name.")),
                                                    Length(max=CANNED_NAME_MAX_LENGTH)])
    text_fi = TextAreaField(TEXT_LABELS["fi"], validators=[Optional(), Length(max=MESSAGE_MAX_LENGTH)])
    text_sv = TextAreaField(TEXT_LABELS["sv"], validators=[Optional(), Length(max=MESSAGE_MAX_LENGTH)])
    text_en = TextAreaField(TEXT_LABELS["en"], validators=[Optional(), Length(max=MESSAGE_MAX_LENGTH)])
    text_nl = TextAreaField(TEXT_LABELS["nl"], validators=[Optional(), Length(max=MESSAGE_MAX_LENGTH)])

    def texts(self):
        return {language: getattr(self, f"text_{language}").data for language in LANGUAGES}


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


class TranscriptSearchForm(FlaskForm):
    """A search of the kept transcripts (blueprints/chat/transcripts.py). Sent by POST, so what
    was typed (often a name) stays out of the address and the logs; the page number too."""

    text = SearchField(_l("Text in the chat or the customer's name"), validators=[
        Optional(), Length(max=SEARCH_TEXT_MAX_LENGTH,
                           message=_l("Search for at most %(max)d characters.", max=SEARCH_TEXT_MAX_LENGTH))])
    queue = SelectField(_l("Queue"), coerce=optional_id, validate_choice=True)
    start = IsoDateField(_l("From"), validators=[Optional()])
    end = IsoDateField(_l("To"), validators=[Optional()])

    def validate_end(self, field):
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError(_l("The end date is before the start date."))
