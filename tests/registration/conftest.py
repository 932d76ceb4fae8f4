from datetime import date

import pytest

from blueprints.accounts.models import Unit, UnitKind
from blueprints.registration import service
from blueprints.registration.demo import make_hetu
from common.access import Role
from extensions import db

ADULT = make_hetu(date(1980, 2, 3), 345)


def customer_fields(**extra):
    fields = {"first_name": "Aino", "last_name": "Äijälä", "email": "aino@example.fi", "phone": "", "language": "fi",
              "basis": "reading_disability", "service_form": "net", "channel": "face_to_face"}
    fields.update(extra)
    return fields


@pytest.fixture
def world(make_unit, make_user):
    """Library L with registrars reg and colleague, library L2 with other, a school S, an admin."""
    ids = {"L": make_unit(name="Library L"), "L2": make_unit(name="Library L2"), "S": make_unit(kind=UnitKind.SCHOOL, name="School S")}
    make_user("reg", (Role.REGISTRAR, ids["L"]), (Role.REGISTRAR, ids["S"]))
    make_user("colleague", (Role.REGISTRAR, ids["L"]))
    make_user("other", (Role.REGISTRAR, ids["L2"]))
    make_user("celia", (Role.SERVICE_ADMIN, None))
    return ids


@pytest.fixture
def add_customer(app):
    def add(unit_id, code=ADULT, **extra):
        with app.test_request_context():
            unit = db.session.get(Unit, unit_id)
            return service.register_customer(unit, code, customer_fields(**extra)).id

    return add


@pytest.fixture
def request_context(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield app
