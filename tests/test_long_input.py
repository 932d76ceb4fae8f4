"""Every text a person types has a maximum length, refused at its field (422) with what was typed
kept and nothing stored: a search of 50 KB used to reach the database as a LIKE pattern SQLite
calls too complex (a 500), and a form field longer than its column could only fail there."""
import pytest
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.fields.core import UnboundField
from wtforms.validators import Length

import blueprints.accounts.forms
import blueprints.chat.forms
import blueprints.ebook.forms
import blueprints.guide.forms
import blueprints.registration.forms  # noqa: F401 - every form class is known below
from blueprints.accounts.models import Unit, User
from blueprints.chat.models import Conversation
from blueprints.ebook.models import EbookCustomer
from blueprints.registration.models import Customer
from common.access import Role
from extensions import db
from tests.conftest import count
from tests.ebook.conftest import signup_data, tariff_id
from tests.registration.conftest import ADULT, customer_fields

LONG = "a" * 50_000 + "%_" * 600  # 51 KB: past SQLite's LIKE pattern limit, with its wildcards
TOO_LONG = "cannot be longer than"


def every_form():
    pending, found = list(FlaskForm.__subclasses__()), []
    while pending:
        form = pending.pop()
        pending.extend(form.__subclasses__())
        found.append(form)
    return found


def text_fields(form):
    for name in dir(form):
        field = getattr(form, name, None)
        if isinstance(field, UnboundField) and issubclass(field.field_class, (StringField, TextAreaField)):
            yield name, field


def length_max(field):
    validators = field.kwargs.get("validators") or (field.args[1] if len(field.args) > 1 else ())
    return min((v.max for v in validators if isinstance(v, Length) and v.max >= 0), default=None)


def test_every_text_field_of_every_form_has_a_maximum_length():
    missing = [f"{form.__module__}.{form.__name__}.{name}" for form in every_form()
               for name, field in text_fields(form) if length_max(field) is None]
    assert not missing, "no Length(max=...): " + ", ".join(sorted(missing))


def test_the_walk_sees_the_searches_and_the_forms():
    names = {form.__name__ for form in every_form()}
    assert {"NameSearchForm", "CustomerSearchForm", "UserSearchForm", "AuditFilterForm", "SignupForm",
            "CustomerForm", "UserForm", "JoinForm", "ItemForm", "ChangePasswordForm"} <= names


def error_at(page, field_id):
    """The message under the field, tied to it."""
    marker = f'id="{field_id}-error"'
    assert marker in page, page[:2000]
    return page.split(marker, 1)[1].split("</p>", 1)[0]


# --- the searches -------------------------------------------------------------------------


def test_a_long_registration_name_search_is_refused_at_its_field(client, auth, make_user, make_unit):
    make_user("reg", (Role.REGISTRAR, make_unit()))
    auth.login("reg")
    response = client.post("/registration/search", data={"q": LONG})
    assert response.status_code == 422
    assert TOO_LONG in error_at(response.text, "q")
    assert 'maxlength="100"' in response.text and f'value="{LONG[:100]}' in response.text  # kept as typed
    assert client.post("/registration/search", data={"q": "x" * 100}).status_code == 200


def test_a_long_registration_search_from_htmx_puts_the_message_at_the_field(client, auth, make_user, make_unit):
    make_user("reg", (Role.REGISTRAR, make_unit()))
    auth.login("reg")
    response = client.post("/registration/search", data={"q": LONG}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#search-form" and response.headers["HX-Reswap"] == "outerHTML"
    assert TOO_LONG in error_at(response.text, "q") and response.text.lstrip().startswith('<form id="search-form"')


def test_a_long_ebook_customer_search_is_refused_at_its_field(client, auth, app, make_user, make_unit):
    branch = make_unit(kind="branch", branch_code="9428")
    make_user("balie", (Role.COUNTER_STAFF, branch))
    auth.login("balie")
    response = client.post("/ebook/customers", query_string={"branch": branch}, data={"q": LONG})
    assert response.status_code == 422
    assert TOO_LONG in error_at(response.text, "q") and 'maxlength="100"' in response.text
    assert client.post("/ebook/customers", query_string={"branch": branch}, data={"q": "x" * 100}).status_code == 200


def test_a_long_admin_user_search_is_refused_at_its_field(client, auth, make_user):
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    auth.login("sirpa")
    response = client.post("/admin/users", data={"q": LONG})
    assert response.status_code == 422
    assert TOO_LONG in error_at(response.text, "user-search") and 'maxlength="100"' in response.text
    assert client.post("/admin/users", data={"q": "x" * 100}).status_code == 200


@pytest.mark.parametrize("name, limit", [("action", 60), ("actor", 60), ("object", 81)])
def test_long_audit_filters_are_refused_at_their_fields(client, auth, make_user, name, limit):
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    auth.login("sirpa")
    response = client.post("/admin/audit", data={name: LONG})
    assert response.status_code == 422
    assert TOO_LONG in error_at(response.text, f"f-{name}") and f'maxlength="{limit}"' in response.text
    assert client.post("/admin/audit", data={name: "x" * limit}).status_code == 200


# --- a sample of the forms: refused at the field, values kept, nothing stored ---------------


def test_long_text_in_a_sample_of_forms_is_refused_at_the_field_and_stores_nothing(client, auth, app, branches,
                                                                                  make_user, make_unit):
    from blueprints.chat.models import ChatQueue

    library = make_unit()
    make_user("reg", (Role.REGISTRAR, library))
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    with app.app_context():
        queue = ChatQueue(unit_id=library, name="Kysy kirjastolta", is_open=True, waiting_message="")
        db.session.add(queue)
        db.session.commit()
        queue_id = queue.id
    counted = (EbookCustomer, Customer, User, Unit, Conversation)
    before = {model: count(app, model) for model in counted}
    tariff = str(tariff_id(app, branches["gieten"], "0141"))
    cases = [  # who, where, what, the field refused and its maximum, a value kept
        ("balie", f"/ebook/branches/{branches['gieten']}/customers/new",
         signup_data(tariff=tariff, street=LONG, address_manual="y"), "street", 120, 'value="Tester"'),
        ("reg", f"/registration/units/{library}/customers/new",
         {"hetu": ADULT, **customer_fields(additional_info=LONG)}, "additional_info", 2000, 'value="Aino"'),
        ("sirpa", "/admin/users/new",
         {"username": "uusi", "display_name": LONG, "email": "uusi@example.org", "language": "fi"}, "display_name",
         120, 'value="uusi"'),
        ("sirpa", "/admin/units/new", {"code": "X1", "name": "Haara", "kind": "branch", "branch_code": LONG},
         "branch_code", 4, 'value="Haara"'),
        (None, "/chat/customer/", {"queue": queue_id, "name": LONG, "question": "Hei"}, "name", 60, "Hei</textarea>"),
        ("reg", "/password", {"current_password": LONG, "new_password": "x", "confirm": "x"}, "current_password",
         200, None),
    ]
    for who, url, data, field, limit, kept in cases:
        auth.logout()
        if who:
            auth.login(who)
        response = client.post(url, data=data)
        assert response.status_code == 422, url
        assert f" {limit} " in error_at(response.text, field), url  # in the person's language (balie: Dutch)
        assert kept is None or kept in response.text, url
    assert {model: count(app, model) for model in counted} == before
