"""How the counter's saves answer when they cannot be done: a database that does not give the
save its turn (503, the values kept, "save again"), a unique key met that is not the card number
(409 on the page that was sent), and nothing of the save kept either way."""
from sqlalchemy import func, select

from blueprints.accounts import service as accounts
from blueprints.ebook import cards
from blueprints.ebook.models import EbookCustomer, Subscription, Tariff
from common.access import Role
from extensions import db
from tests.conftest import PASSWORD, Auth, while_locked
from tests.ebook.conftest import signup_data, tariff_id

SAVE_AGAIN = "Your entries are kept: save again."


def signed_up(app, client, unit_id, tariff, **changes):
    """A customer saved through the signup form; returns (id, the correction form's data)."""
    answer = client.post(f"/ebook/branches/{unit_id}/customers/new", data=signup_data(tariff=tariff, **changes))
    assert answer.status_code == 200 and '<article class="receipt"' in answer.get_data(as_text=True)
    with app.app_context():
        customer = db.session.scalars(select(EbookCustomer).order_by(EbookCustomer.id.desc())).first()
        return customer.id, signup_data(card_number=customer.card_number, tariff=tariff, **changes)


def test_a_correction_that_cannot_get_the_lock_keeps_the_values_and_says_save_again(locked_sqlite_app):
    app, client, ids, tariff, other_writer = locked_sqlite_app
    Auth(client).login("balie")
    customer_id, data = signed_up(app, client, ids["gieten"], tariff)
    answer = while_locked(other_writer, lambda: client.post(f"/ebook/customers/{customer_id}/edit",
                                                            data={**data, "email": "nieuw@example.org"}))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "1"
    assert SAVE_AGAIN in page and 'value="nieuw@example.org"' in page and 'id="signup-form"' in page
    with app.app_context():
        assert db.session.get(EbookCustomer, customer_id).email == "e.b.tester@example.org"


def test_ending_a_customer_that_cannot_get_the_lock_keeps_the_day_and_the_reason(locked_sqlite_app):
    app, client, ids, tariff, other_writer = locked_sqlite_app
    Auth(client).login("balie")
    customer_id, _data = signed_up(app, client, ids["gieten"], tariff)
    with app.app_context():
        starts = db.session.scalar(select(Subscription.starts_on).where(Subscription.customer_id == customer_id))
    day = starts.strftime("%d-%m-%Y")
    answer = while_locked(other_writer, lambda: client.post(f"/ebook/customers/{customer_id}/end",
                                                            data={"ends_on": day, "reason": "Moved to Assen"}))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 503
    assert SAVE_AGAIN in page and 'value="Moved to Assen"' in page and f'value="{day}"' in page
    with app.app_context():
        assert db.session.get(EbookCustomer, customer_id).ended_on is None


def test_deleting_a_customer_that_cannot_get_the_lock_keeps_the_customer_and_says_save_again(locked_sqlite_app):
    app, client, ids, tariff, other_writer = locked_sqlite_app
    Auth(client).login("balie")
    customer_id, _data = signed_up(app, client, ids["gieten"], tariff)
    with app.app_context():  # nothing billed: a customer that may be deleted
        db.session.execute(Subscription.__table__.update().values(price_cents=0, registration_fee_cents=0))
        db.session.commit()
    answer = while_locked(other_writer, lambda: client.post(f"/ebook/customers/{customer_id}/delete"))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 503 and SAVE_AGAIN in page and "Yes, delete the customer" in page
    with app.app_context():
        assert db.session.get(EbookCustomer, customer_id) is not None


def test_a_tariff_change_that_cannot_get_the_lock_keeps_the_values(locked_sqlite_app):
    app, client, ids, _tariff, other_writer = locked_sqlite_app
    with app.app_context():
        accounts.create_user("beheer", "Beheer", "beheer@example.org", "en", PASSWORD, [(Role.SERVICE_ADMIN, None)])
        db.session.commit()
        tid = db.session.scalar(select(Tariff.id).where(Tariff.unit_id == ids["gieten"], Tariff.code == "0141"))
    Auth(client).login("beheer")
    data = {"name": "Digital only", "price_cents": "4321", "period_months": "12", "kind": "fixed", "digital_only": "y",
            "active": "y"}
    answer = while_locked(other_writer, lambda: client.post(f"/ebook/tariffs/{tid}/edit", data=data))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 503 and SAVE_AGAIN in page and 'value="4321"' in page
    with app.app_context():
        assert db.session.get(Tariff, tid).price_cents == 4200


def test_a_clash_that_is_not_the_card_number_is_a_conflict_not_another_number_or_a_taken_card(client, auth, app,
                                                                                              branches):
    """A unique key other than the card number met in the number's savepoint (here a customer
    number sequence set back) is no card-number race: the save is answered 409 on its page, with
    the values kept and nothing stored, instead of trying number after number."""
    auth.login("balie")
    tariff = str(tariff_id(app, branches["gieten"], "0141"))
    url = f"/ebook/branches/{branches['gieten']}/customers/new"
    assert client.post(url, data=signup_data(tariff=tariff)).status_code == 200
    with app.app_context():
        cards.set_sequence("actor", 0)  # the next customer gets the actor number the first has
        db.session.commit()
    for number in ("v", cards.card_number_for("9428", 40)):  # generated, and scanned
        answer = client.post(url, data=signup_data(tariff=tariff, surname="Tweede", card_number=number))
        page = answer.get_data(as_text=True)
        assert answer.status_code == 409, page[:300]
        assert '<p class="form-error" role="alert">' in page and 'value="Tweede"' in page
        assert 'id="card_number-error"' not in page  # not "this card number belongs to another customer"
    with app.app_context():
        assert db.session.scalar(select(func.count(EbookCustomer.id))) == 1
