"""Demo data for the e-book counter: each branch's tariff table and the seed's example customer."""
from datetime import date

from sqlalchemy import select

from blueprints.ebook import service
from blueprints.ebook.models import PersonKind, Tariff
from extensions import db


def seed(units):
    branches = [unit for unit in units.values() if unit.branch_code]
    for unit in branches:
        service.seed_tariffs(unit)
    db.session.flush()
    gieten = units["GIETEN"]
    # Continue the numbering where the seed's screenshots are: 29428000077727 [480874].
    service.set_sequence(f"card:{gieten.branch_code}", 7771)
    service.set_sequence("actor", 480873)
    basis = db.session.scalar(select(Tariff).where(Tariff.unit_id == gieten.id, Tariff.code == "0045"))
    service.sign_up(
        gieten,
        {
            "initials": "E.B.",
            "surname": "Tester",
            "birth_date": date(1991, 1, 4),
            "language": "nl",
            "country": "NL",
            "postcode": "9468 BG",
            "house_number": 41,
            "street": "Kruisakkers",
            "city": "ANNEN",
            "person_kind": PersonKind.MAN,
            "phone": "(088) 012 82 95",
            "email": "info@bibliotheekannen.nl",
        },
        basis,
        today=date(2024, 4, 9),
    )
