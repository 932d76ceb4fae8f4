from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    PasswordField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    Email,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from blueprints.accounts.models import UNIT_KIND_LABELS, UnitKind
from blueprints.accounts.service import password_problems
from common.access import ROLE_LABELS
from extensions import LANGUAGES


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[InputRequired(), Length(max=60)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])


class NewPasswordMixin:
    """Two password fields checked against the password rules."""

    username_for_rules = None

    def validate_new_password(self, field):
        problems = password_problems(field.data or "", self.username_for_rules)
        if problems:
            raise ValidationError(" ".join(str(p) for p in problems))


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[InputRequired(), Length(max=200)])
    new_password = PasswordField(_l("New password"), validators=[InputRequired(), Length(max=200)])
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            InputRequired(), Length(max=200), EqualTo("new_password", message=_l("The passwords do not match.")),
        ],
    )


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    new_password = PasswordField(_l("New password"), validators=[InputRequired(), Length(max=200)])
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            InputRequired(), Length(max=200), EqualTo("new_password", message=_l("The passwords do not match.")),
        ],
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[InputRequired(), Email(), Length(max=254)])


NOTICE_AREAS = [
    ("registration", _l("Celia registration")),
    ("ebook", _l("E-book signup")),
    ("chat", _l("Chat queue")),
    ("guide", _l("Guide checklist")),
    ("accounts", _l("Administration and account pages")),
]


class NoticeForm(FlaskForm):
    text = TextAreaField(_l("Notice"), validators=[InputRequired(), Length(max=500)])
    ends_at = DateTimeLocalField(_l("Ends at (optional)"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    areas = SelectMultipleField(_l("Show on the pages of"), choices=NOTICE_AREAS, option_widget=CheckboxInput(),
                                widget=ListWidget(prefix_label=False))
    units = SelectMultipleField(_l("Show to the staff of these units only"), choices=[],
                                option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))


class UnitForm(FlaskForm):
    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=20), Regexp(r"^[A-Za-z0-9_-]+$")])
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=120)])
    kind = SelectField(_l("Kind"), choices=[(k.value, label) for k, label in UNIT_KIND_LABELS.items()])
    branch_code = StringField(
        _l("Branch code"),
        validators=[Optional(), Length(max=4), Regexp(r"^\d{4}$", message=_l("A branch code has four digits."))],
    )
    active = BooleanField(_l("Active"), default=True)

    def validate_branch_code(self, field):
        if self.kind.data == UnitKind.BRANCH and not field.data:
            raise ValidationError(_l("A branch needs its four-digit branch code."))


class UserForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[
            InputRequired(),
            Length(min=3, max=60),
            Regexp(r"^[A-Za-z0-9._-]+$", message=_l("Use letters, digits, dots, hyphens and underscores.")),
        ],
    )
    display_name = StringField(_l("Name"), validators=[InputRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[InputRequired(), Email(), Length(max=254)])
    language = SelectField(_l("Language"), choices=list(LANGUAGES.items()))
    active = BooleanField(_l("Active"), default=True)


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[(r.value, label) for r, label in ROLE_LABELS.items()])
    unit = SelectField(_l("Unit"), coerce=int, choices=[])


class RegistrarForm(FlaskForm):
    """A main user adds a registrar to one of their units."""

    username = UserForm.username
    display_name = UserForm.display_name
    email = UserForm.email
    language = UserForm.language
    unit = SelectField(_l("Unit"), coerce=int, choices=[])


# What a search may be: longer text names nothing (the columns searched hold at most 120
# characters) and would reach the database as a pattern it refuses (SQLite's LIKE: 50 KB).
SEARCH_MAX_LENGTH = 100


class UserSearchForm(FlaskForm):
    q = SearchField(_l("Search by name or username"), id="user-search",
                    validators=[Optional(), Length(max=SEARCH_MAX_LENGTH)])


class AuditFilterForm(FlaskForm):
    """The audit log's filters; each as long as the column it is compared with."""

    action = StringField(_l("Action starts with"), id="f-action", validators=[Optional(), Length(max=60)])
    actor = StringField(_l("Username"), id="f-actor", validators=[Optional(), Length(max=60)])
    object = StringField(_l("Object (type:id)"), id="f-object", validators=[Optional(), Length(max=81)])  # 40:40
