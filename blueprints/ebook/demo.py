"""Demo data for the e-book counter: each branch's tariff table and the seed's example customer."""
from datetime import date

from sqlalchemy import select

from blueprints.ebook import cards, pricing, signups
from blueprints.ebook.models import BranchSettings, CustomerDetails, PersonKind, Tariff
from extensions import db


def seed(units):
    branches = [unit for unit in units.values() if unit.branch_code]
    for unit in branches:
        pricing.seed_tariffs(unit)
    db.session.flush()
    gieten = units["GIETEN"]
    # Discounts at the counter: the reasons staff choose from and the most they may give.
    db.session.add(BranchSettings(unit_id=gieten.id, login_url="www.bibliotheekgieten.nl", card_formats="branch14",
                                  discount_reasons="Stadspas\nStudent\nVrijwilliger\nCoulance",
                                  max_discount_percent=50))
    # Continue the numbering where the seed's screenshots are: 29428000077727 [480874].
    cards.set_sequence(f"card:{gieten.branch_code}", 7771)
    cards.set_sequence("actor", 480873)
    basis = db.session.scalar(select(Tariff).where(Tariff.unit_id == gieten.id, Tariff.code == "0045"))
    signups.sign_up(
        gieten,
        CustomerDetails(
            initials="E.B.",
            surname="Tester",
            birth_date=date(1991, 1, 4),
            language="nl",
            country="NL",
            postcode="9468 BG",
            house_number=41,
            street="Kruisakkers",
            city="ANNEN",
            person_kind=PersonKind.MAN,
            phone="(088) 012 82 95",
            email="info@bibliotheekannen.nl",
        ),
        basis,
        today=date(2024, 4, 9),
    )
