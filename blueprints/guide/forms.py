from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from blueprints.guide.service import (
    CUSTOMER_LANGUAGES,
    DEVICES,
    GROUP_LABELS,
    MAX_DURATION_MINUTES,
    NOTE_MAX_LENGTH,
    OUTCOME_LABELS,
    REFERRAL_LABELS,
    TOPICS,
)


class CheckboxListField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class StartSessionForm(FlaskForm):
    unit = SelectField(_l("Unit"), coerce=int)
    topics = CheckboxListField(
        _l("Topics"),
        choices=list(TOPICS.items()),
        validators=[InputRequired(message=_l("Choose at least one topic."))],
    )
    device = SelectField(_l("Device"), choices=list(DEVICES.items()), validators=[InputRequired()])
    customer_language = SelectField(
        _l("Customer's language"), choices=list(CUSTOMER_LANGUAGES.items()), validators=[InputRequired()]
    )


class LimitForm(FlaskForm):
    limit = SelectField(_l("Limit reached"), coerce=int, validators=[InputRequired()])
    referred_to = SelectField(
        _l("Referred to"), choices=[(k.value, v) for k, v in REFERRAL_LABELS.items()], validators=[InputRequired()]
    )


class EndSessionForm(FlaskForm):
    outcome = RadioField(
        _l("Outcome"),
        choices=[(k.value, v) for k, v in OUTCOME_LABELS.items()],
        validators=[InputRequired(message=_l("Choose the outcome."))],
    )
    duration_minutes = IntegerField(
        _l("Duration (minutes)"),
        validators=[
            InputRequired(message=_l("Give the duration in minutes.")),
            NumberRange(min=0, max=MAX_DURATION_MINUTES,
                        message=_l("The duration must be between 0 and 1440 minutes (a day).")),
        ],
    )
    note = TextAreaField(
        _l("Short note"),
        validators=[Optional(), Length(max=NOTE_MAX_LENGTH, message=_l("The note can be at most %(max)d characters."))],
    )


class ItemForm(FlaskForm):
    group = SelectField(_l("Group"), choices=[(k.value, v) for k, v in GROUP_LABELS.items()])
    text_fi = TextAreaField(_l("Text in Finnish"), validators=[InputRequired(), Length(max=2000)])
    text_sv = TextAreaField(_l("Text in Swedish"), validators=[InputRequired(), Length(max=2000)])
    text_en = TextAreaField(_l("Text in English"), validators=[InputRequired(), Length(max=2000)])
    text_nl = TextAreaField(_l("Text in Dutch"), validators=[InputRequired(), Length(max=2000)])
    instead_fi = TextAreaField(_l("Instead, in Finnish (limits only)"), validators=[Optional(), Length(max=1000)])
    instead_sv = TextAreaField(_l("Instead, in Swedish (limits only)"), validators=[Optional(), Length(max=1000)])
    instead_en = TextAreaField(_l("Instead, in English (limits only)"), validators=[Optional(), Length(max=1000)])
    instead_nl = TextAreaField(_l("Instead, in Dutch (limits only)"), validators=[Optional(), Length(max=1000)])

    def texts(self):
        return {lang: getattr(self, f"text_{lang}").data for lang in ("fi", "sv", "en", "nl")}

    def instead(self):
        return {lang: getattr(self, f"instead_{lang}").data for lang in ("fi", "sv", "en", "nl")}
