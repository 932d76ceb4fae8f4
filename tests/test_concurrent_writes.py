"""Saves at the same moment are all stored, on the embedded SQLite default as on PostgreSQL
(CI's second run): 20 e-book signups and 20 Celia registrations through the real forms, each
from its own browser session in its own thread. And a save that cannot get its turn keeps the
user's values and says to save again, instead of a 500 page."""
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from blueprints.accounts.models import UnitKind
from blueprints.ebook import cards
from blueprints.ebook.models import EbookCustomer
from blueprints.registration.demo import make_hetu
from blueprints.registration.models import Customer
from common.access import Role
from extensions import db
from tests.conftest import Auth, in_threads, logged_in, while_locked
from tests.ebook.conftest import signup_data, tariff_id
from tests.registration.conftest import customer_fields

SAVES = 20


def sessions_of(app, username, count=SAVES):
    """`count` browsers, each with a session of its own of `username`."""
    return [logged_in(app, username) for _ in range(count)]


def at_once(clients, requests):
    """Each client sends its request (url, form data or None for a GET) at the same moment. Returns the answers."""
    start = threading.Barrier(len(requests))
    answers = [None] * len(requests)

    def send(n):
        start.wait()
        url, data = requests[n]
        answers[n] = clients[n].get(url) if data is None else clients[n].post(url, data=data)

    in_threads(send, [(n,) for n in range(len(requests))])
    return answers


def test_twenty_simultaneous_ebook_signups_are_all_stored_with_distinct_card_numbers(app, make_unit, make_user):
    """A new branch, as a new library would try it: twenty counters open the form at the same
    moment (the first visit gives the branch its tariffs), then save at the same moment."""
    gieten = make_unit(UnitKind.BRANCH, name="Gieten", code="GIETEN", branch_code="9428")
    make_user("balie", (Role.COUNTER_STAFF, gieten), language="nl")
    clients = sessions_of(app, "balie")
    url = f"/ebook/branches/{gieten}/customers/new"
    # Production's password hashing (scrypt): slow work that must not hold the write lock.
    saved, app.config["PASSWORD_HASH_METHOD"] = app.config["PASSWORD_HASH_METHOD"], "scrypt"
    try:
        forms = at_once(clients, [(url, None)] * SAVES)
        assert [a.status_code for a in forms] == [200] * SAVES
        tariff = str(tariff_id(app, gieten, "0141"))
        answers = at_once(clients, [(url, signup_data(surname=f"Racer{n}", tariff=tariff)) for n in range(SAVES)])
    finally:
        app.config["PASSWORD_HASH_METHOD"] = saved
    # A save answers with its receipt (the one-time password is shown only there).
    assert [a.status_code for a in answers] == [200] * SAVES
    assert all('<article class="receipt"' in a.get_data(as_text=True) for a in answers)
    with app.app_context():
        numbers = db.session.scalars(select(EbookCustomer.card_number)).all()
    assert len(numbers) == SAVES
    assert sorted(numbers) == [cards.card_number_for("9428", n) for n in range(1, SAVES + 1)]


def test_twenty_simultaneous_registrations_are_all_stored(app, world):
    codes = [make_hetu(date(1970 + n, 3, 4), 100 + n) for n in range(SAVES)]
    answers = at_once(sessions_of(app, "reg"), [(f"/registration/units/{world['L']}/customers/new",
                                    customer_fields(last_name=f"Racer{n}", hetu=code)) for n, code in enumerate(codes)])
    assert [a.status_code for a in answers] == [302] * SAVES
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == SAVES


def test_a_signup_that_cannot_get_the_lock_keeps_the_form_and_says_save_again(locked_sqlite_app):
    app, client, ids, tariff, other_writer = locked_sqlite_app
    Auth(client).login("balie")
    answer = while_locked(other_writer, lambda: client.post(f"/ebook/branches/{ids['gieten']}/customers/new",
                                                            data=signup_data(surname="Geduldig", tariff=tariff)))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 503
    assert "nothing was saved" in page and "save again" in page
    assert 'value="Geduldig"' in page and 'value="e.b.tester@example.org"' in page
    with app.app_context():
        assert db.session.scalar(select(func.count(EbookCustomer.id))) == 0


def test_a_registration_that_cannot_get_the_lock_keeps_the_form_and_says_save_again(locked_sqlite_app):
    app, client, ids, _tariff, other_writer = locked_sqlite_app
    Auth(client).login("reg")
    code = make_hetu(date(1980, 2, 3), 345)
    answer = while_locked(other_writer, lambda: client.post(f"/registration/units/{ids['library']}/customers/new",
                                                            data=customer_fields(last_name="Kärsivällinen", hetu=code)))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 503
    assert "nothing was saved" in page and "save again" in page
    assert 'value="Kärsivällinen"' in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 0


def test_any_other_write_that_cannot_get_the_lock_answers_503_not_500(locked_sqlite_app):
    app, client, ids, _tariff, other_writer = locked_sqlite_app
    Auth(client).login("balie")
    answer = while_locked(other_writer, lambda: client.post("/language", data={"language": "nl"}))
    assert answer.status_code == 503
    assert "try again" in answer.get_data(as_text=True)


@pytest.fixture
def queue_id(app, make_unit):
    """An open chat queue of a library."""
    from blueprints.chat.models import ChatQueue

    with app.app_context():
        queue = ChatQueue(unit_id=make_unit(), name="Neuvonta", is_open=True)
        db.session.add(queue)
        db.session.commit()
        return queue.id


def test_twenty_customers_joining_one_queue_at_once_are_all_in_line_one_after_another(app, queue_id):
    """The queue's row lock is taken before the new customer's row is written: taken after, two
    joins each holding the key-share lock of their insert would wait on each other (PostgreSQL
    answers one of them with a deadlock after a second)."""
    from blueprints.chat.models import Conversation

    clients = [app.test_client() for _ in range(SAVES)]
    answers = at_once(clients,
                      [("/chat/customer/", {"queue": queue_id, "name": f"Asiakas {n}", "question": f"Kysymys {n}"})
                                for n in range(SAVES)])
    assert [a.status_code for a in answers] == [302] * SAVES
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Conversation)) == SAVES


def test_twenty_lines_sent_into_one_chat_at_once_are_all_stored_once(app, queue_id):
    from blueprints.chat.models import ChatMessage

    customer = app.test_client()
    assert customer.post("/chat/customer/", data={"queue": queue_id, "name": "Toni"}).status_code == 302
    # One customer's page with many lines in flight (a slow connection catching up), each its own request.
    clients = [customer] * SAVES
    answers = at_once(clients,
                      [("/chat/customer/message", {"body": f"Rivi {n}", "key": f"k{n}"}) for n in range(SAVES)])
    assert [a.status_code for a in answers] == [200] * SAVES
    with app.app_context():
        bodies = db.session.scalars(select(ChatMessage.body)).all()
    assert sorted(bodies) == sorted(f"Rivi {n}" for n in range(SAVES))


def test_a_hundred_saves_of_two_areas_at_once_are_all_stored_and_none_answers_an_error_page(app, make_unit, make_user,
                                                                                            world):
    """A busy morning: 70 e-book signups (production's scrypt hashing) and 30 Celia registrations
    sent at the same moment, each from its own session. On the embedded default each write waits
    its turn without holding a database connection, so no save meets a full connection pool."""
    signups, registrations = 70, 30
    gieten = make_unit(UnitKind.BRANCH, name="Gieten", code="GIETEN", branch_code="9428")
    make_user("balie", (Role.COUNTER_STAFF, gieten), language="nl")
    counter, registrars = sessions_of(app, "balie", signups), sessions_of(app, "reg", registrations)
    url = f"/ebook/branches/{gieten}/customers/new"
    assert counter[0].get(url).status_code == 200  # the branch's tariffs, made on its first visit
    tariff = str(tariff_id(app, gieten, "0141"))
    codes = [make_hetu(date(1950 + n, 5, 6), 200 + n) for n in range(registrations)]
    requests = [(url, signup_data(surname=f"Ochtend{n}", tariff=tariff)) for n in range(signups)]
    requests += [(f"/registration/units/{world['L']}/customers/new", customer_fields(last_name=f"Aamu{n}", hetu=code))
                 for n, code in enumerate(codes)]
    saved, app.config["PASSWORD_HASH_METHOD"] = app.config["PASSWORD_HASH_METHOD"], "scrypt"
    try:
        answers = at_once(counter + registrars, requests)
    finally:
        app.config["PASSWORD_HASH_METHOD"] = saved
    statuses = [a.status_code for a in answers]
    assert statuses == [200] * signups + [302] * registrations
    with app.app_context():
        assert sorted(db.session.scalars(select(EbookCustomer.surname)).all()) == sorted(f"Ochtend{n}"
                                                                                         for n in range(signups))
        assert sorted(db.session.scalars(select(Customer.last_name)).all()) == sorted(f"Aamu{n}"
                                                                                      for n in range(registrations))
