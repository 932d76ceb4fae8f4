"""The registration area's helpers; its `world` fixture is in tests/conftest.py, as tests of other
areas use it too."""
import dataclasses
from datetime import date, timedelta

import pytest

from blueprints.accounts.models import Unit
from blueprints.registration import service
from blueprints.registration.demo import make_hetu
from blueprints.registration.models import Basis, Channel, ServiceForm
from extensions import db
from tests.conftest import library_today

ADULT = make_hetu(date(1980, 2, 3), 345)
GUARDIAN_FIELDS = [field.name for field in dataclasses.fields(service.GuardianConsent)]


def child_code(years=14):
    """The identity code of a child who turned `years` 30 days ago."""
    today = library_today()
    born = today.replace(year=today.year - years) - timedelta(days=30)
    return make_hetu(born, 250, "A" if born.year >= 2000 else "-")


def new_url(world, unit="L"):
    return f"/registration/units/{world[unit]}/customers/new"


def customer_fields(**extra):
    """The customer form's fields, as a browser posts them."""
    fields = {"first_name": "Aino", "last_name": "Äijälä", "email": "aino@example.fi", "phone": "", "language": "fi",
              "basis": "reading_disability", "service_form": "net", "channel": "face_to_face"}
    fields.update(extra)
    return fields


def customer_details(**extra):
    """The same customer's details as the form gives them to the service; a guardian part when
    `extra` names one of its fields."""
    fields = customer_fields(**extra)
    guardian = {name: fields.pop(name) for name in GUARDIAN_FIELDS if name in fields}
    return service.CustomerDetails(**{**fields, "basis": Basis(fields["basis"]),
                                      "service_form": ServiceForm(fields["service_form"]),
                                      "channel": Channel(fields["channel"]),
                                      "guardian": service.GuardianConsent(**guardian) if guardian else None})


@pytest.fixture
def add_customer(app):
    def add(unit_id, code=ADULT, **extra):
        with app.test_request_context():
            unit = db.session.get(Unit, unit_id)
            return service.register_customer(unit, code, customer_details(**extra)).id

    return add


@pytest.fixture
def request_context(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield app
