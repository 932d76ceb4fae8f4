"""Two registrars saving the same identity code at the same moment: one customer, one
"already registered". Real threads, each with its own database connection."""
import threading

from sqlalchemy import func, select

from blueprints.accounts.models import Unit
from blueprints.registration import service
from blueprints.registration.models import Customer
from common.refusals import Conflict
from extensions import db
from tests.conftest import in_threads
from tests.registration.conftest import ADULT, customer_details, customer_fields


def test_two_simultaneous_adds_of_the_same_code_create_one_customer(app, world):
    start = threading.Barrier(2)
    outcomes = []

    def register(unit_id):
        with app.test_request_context():
            unit = db.session.get(Unit, unit_id)
            start.wait()
            try:
                service.register_customer(unit, ADULT, customer_details())
                outcomes.append("created")
            except Conflict:
                outcomes.append("already registered")
            finally:
                db.session.remove()

    in_threads(register, [(world[u],) for u in ("L", "L2")])
    assert sorted(outcomes) == ["already registered", "created"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 1


def test_two_simultaneous_adds_over_http(app, world):
    """The same through the add form: the loser's form says the code is already registered."""
    from tests.conftest import Auth

    clients = []
    for name in ("reg", "colleague"):
        c = app.test_client()
        Auth(c).login(name)
        clients.append(c)
    start = threading.Barrier(2)
    statuses = []

    def post(c):
        start.wait()
        r = c.post(f"/registration/units/{world['L']}/customers/new", data=customer_fields(hetu=ADULT))
        statuses.append((r.status_code, "already registered" in r.text))

    in_threads(post, [(c,) for c in clients])
    assert sorted(statuses) == [(302, False), (409, True)]
