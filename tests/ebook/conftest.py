"""The e-book counter's helpers; its `branches` fixture is in tests/conftest.py, as tests of other
areas use it too."""
from sqlalchemy import select

from blueprints.ebook.models import EbookCustomer, Tariff
from extensions import db


def tariff_id(app, unit_id, code):
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


def new_url(unit_id):
    return f"/ebook/branches/{unit_id}/customers/new"


def sign_up(client, app, branches, code="0141", **changes):
    data = signup_data(tariff=str(tariff_id(app, branches["gieten"], code)), **changes)
    return client.post(new_url(branches["gieten"]), data=data)


def saved(response):
    """A successful save answers with the receipt itself (200), the one-time password on it."""
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and '<article class="receipt"' in page, page[:500]
    return page


def password_on(page):
    return page.split('class="receipt-password">')[1].split("<")[0]


def only_customer(app):
    with app.app_context():
        return db.session.scalar(select(EbookCustomer.id))
