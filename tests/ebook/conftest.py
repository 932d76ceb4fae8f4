import pytest

from blueprints.accounts.models import Unit, UnitKind
from blueprints.ebook import service
from common.access import Role
from extensions import db


@pytest.fixture
def branches(app, make_unit, make_user):
    """Branch 9428 Gieten with counter staff "balie", branch 9468 Annen with "annen"; both with tariffs."""
    gieten = make_unit(UnitKind.BRANCH, name="Gieten", code="GIETEN", branch_code="9428")
    annen = make_unit(UnitKind.BRANCH, name="Annen", code="ANNEN", branch_code="9468")
    make_user("balie", (Role.COUNTER_STAFF, gieten), language="nl")
    make_user("annen", (Role.COUNTER_STAFF, annen), language="nl")
    with app.app_context():
        for unit_id in (gieten, annen):
            service.seed_tariffs(db.session.get(Unit, unit_id))
        db.session.commit()
    return {"gieten": gieten, "annen": annen}


def tariff_id(app, unit_id, code):
    from sqlalchemy import select

    from blueprints.ebook.models import Tariff

    with app.app_context():
        return db.session.scalar(select(Tariff.id).where(Tariff.unit_id == unit_id, Tariff.code == code))


def signup_data(**changes):
    data = {
        "card_number": "v",
        "initials": "E.B.",
        "surname": "Tester",
        "birth_date": "04-01-1991",
        "language": "nl",
        "country": "NL",
        "postcode": "9468bg",
        "house_number": "41",
        "person_kind": "man",
        "identity_checked": "no",
        "keep_loan_history": "no",
        "warn_borrowed_before": "no",
        "email": "e.b.tester@example.org",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}
