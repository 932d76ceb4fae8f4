"""Demo customers: some in the library, one in the school, one marked for deletion.

Codes to try as the demo registrar of HKI-LIB (rekisteroija):
  131052-308T  Aino Äijälä, HKI-LIB            -> "already a customer of your unit"
  010190Y123M  Matti Virtanen, HKI-LIB, CD      (010190-123M is another person: not registered)
  140312B0771  Sofia Lindqvist, KALLIO-SCH      -> only the school's name, "Transfer to my unit"
  200875-2016  Pekka Poistettava, marked        -> "only a service admin can reactivate"

The Celia service's chat queue ("Celian asiakaspalvelu"), where the registrar's pages send them
when they are stuck: `flask seed-demo` writes its id into instance/config.py (CELIA_SERVICE_CHAT_QUEUE).
"""
from datetime import date, timedelta

from blueprints.chat.models import ChatQueue
from blueprints.registration import hetu, service
from blueprints.registration.models import (
    Basis,
    Channel,
    Customer,
    CustomerStatus,
    RegisteredBy,
    ServiceForm,
)
from common.clock import local_today
from extensions import db

CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def make_hetu(born, individual, sign=None):
    """A valid identity code for a birth date (the demo and the tests make their own)."""
    if sign is None:
        sign = {18: "+", 19: "-", 20: "A"}[born.year // 100]
    digits = f"{born:%d%m}{born.year % 100:02d}{individual:03d}"
    return f"{digits[:6]}{sign}{digits[6:]}{CHECK[int(digits) % 31]}"


def _customer(unit, code, first, last, **fields):
    code, born = hetu.parse(code)
    customer = Customer(
        **service.stored_hetu(code), birth_date=born, unit_id=unit.id, first_name=first, last_name=last,
        first_name_key=service.name_key(first), last_name_key=service.name_key(last),
        language="fi", basis=fields.pop("basis", Basis.READING_DISABILITY),
        service_form=fields.pop("service_form", ServiceForm.NET), channel=fields.pop("channel", Channel.FACE_TO_FACE),
        **fields,
    )
    db.session.add(customer)
    return customer


SERVICE_QUEUE = "Celian asiakaspalvelu"


def seed(units):
    """The demo customers, and the Celia service's chat queue, where a stuck registrar is sent.
    Returns the settings that name it (cli.py writes them to the instance's configuration)."""
    library, school = units["HKI-LIB"], units["KALLIO-SCH"]
    # In the demo the library's own chat agents stand in for the service's.
    queue = ChatQueue(unit_id=library.id, name=SERVICE_QUEUE, is_open=True,
                      waiting_message="Tervetuloa Celian asiakaspalveluun! Palvelemme rekisteröijiä ja pääkäyttäjiä.")
    db.session.add(queue)
    _customer(library, "131052-308T", "Aino", "Äijälä", email="aino.aijala@example.fi")
    _customer(library, make_hetu(date(1990, 1, 1), 123, "Y"), "Matti", "Virtanen", service_form=ServiceForm.CD,
              review_date=local_today() - timedelta(days=10), email="matti@example.fi")
    _customer(library, make_hetu(date(2015, 5, 5), 42), "Eero", "Öhman", registered_by=RegisteredBy.GUARDIAN,
              guardian_name="Liisa Öhman", guardian_email="liisa@example.fi", consent_given_by="Liisa Öhman",
              consent_date=local_today(), consent_method="signed form")
    _customer(school, make_hetu(date(2012, 3, 14), 77, "B"), "Sofia", "Lindqvist", basis=Basis.SPECIAL_SUPPORT,
              registered_by=RegisteredBy.GUARDIAN, guardian_name="Anna Lindqvist", guardian_email="anna@example.fi",
              consent_given_by="Anna Lindqvist", consent_date=local_today(), consent_method="signed form")
    _customer(library, make_hetu(date(1975, 8, 20), 201), "Pekka", "Poistettava",
              status=CustomerStatus.MARKED_FOR_DELETION)
    db.session.flush()
    return {"CELIA_SERVICE_CHAT_QUEUE": queue.id}
