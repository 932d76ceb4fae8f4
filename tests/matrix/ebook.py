from tests.matrix import ADMIN, COUNTER, COUNTER_OTHER, Access

COUNTERS = frozenset({ADMIN, COUNTER, COUNTER_OTHER})
BRANCH_B = frozenset({ADMIN, COUNTER})  # counter staff of B2 get 404 on branch B and its customers
ADMIN_ONLY = frozenset({ADMIN})


def prepare(world):
    """A customer of branch B (9428) signed up through the service, and B's tariff table."""
    from datetime import date

    from sqlalchemy import select

    from blueprints.ebook import pricing, signups
    from blueprints.ebook.models import CustomerDetails, Tariff
    from extensions import db

    branch = world.units["B"]
    pricing.seed_tariffs(branch)
    db.session.flush()
    tariff = db.session.scalar(select(Tariff).where(Tariff.unit_id == branch.id, Tariff.code == "0141"))
    customer, _password = signups.sign_up(
        branch,
        CustomerDetails(surname="Tester", birth_date=date(1991, 1, 4), postcode="9468 BG", house_number=41,
                        street="Kruisakkers", city="ANNEN"),
        tariff,
    )
    world.extra["ebook_customer"] = customer.id
    world.extra["ebook_tariff"] = tariff.id


def branch_b(world):
    return {"unit_id": world.units["B"].id}


def customer(world):
    return {"customer_id": world.extra["ebook_customer"]}


ROUTES = {
    "ebook.index": Access(COUNTERS),
    "ebook.customers": Access(COUNTERS),
    "ebook.todays_signups": Access(BRANCH_B, args=branch_b),
    "ebook.new_customer": Access(BRANCH_B, args=branch_b),
    "ebook.tariff_choices": Access(BRANCH_B, method="POST", args=branch_b, status=200),
    "ebook.cost_summary": Access(BRANCH_B, method="POST", args=branch_b, status=200),
    "ebook.address_lookup": Access(BRANCH_B, method="POST", args=branch_b, status=200),
    "ebook.customer": Access(BRANCH_B, args=customer),
    "ebook.receipt": Access(BRANCH_B, args=customer),
    "ebook.new_password": Access(BRANCH_B, method="POST", args=customer, status=200),
    "ebook.customer_overview": Access(BRANCH_B, args=customer),
    "ebook.edit_customer": Access(BRANCH_B, args=customer),
    "ebook.correction_tariffs": Access(BRANCH_B, method="POST", args=customer, status=200),
    "ebook.correction_summary": Access(BRANCH_B, method="POST", args=customer, status=200),
    "ebook.end_customer": Access(BRANCH_B, args=customer),
    "ebook.delete_customer": Access(BRANCH_B, args=customer),
    "ebook.tariffs": Access(ADMIN_ONLY, args=branch_b),
    "ebook.branch_settings": Access(ADMIN_ONLY, args=branch_b),
    "ebook.edit_tariff": Access(ADMIN_ONLY, args=lambda w: {"tariff_id": w.extra["ebook_tariff"]}),
}
