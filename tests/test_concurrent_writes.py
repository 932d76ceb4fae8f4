"""Saves at the same moment are all stored, on the embedded SQLite default as on PostgreSQL
(CI's second run): 20 e-book signups and 20 Celia registrations through the real forms, each
from its own browser session in its own thread. And a save that cannot get its turn keeps the
user's values and says to save again, instead of a 500 page."""
import sqlite3
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from app import create_app
from blueprints.accounts import service as accounts
from blueprints.accounts.models import UnitKind
from blueprints.ebook import service as ebook
from blueprints.ebook.models import EbookCustomer
from blueprints.registration.demo import make_hetu
from blueprints.registration.models import Customer
from common.access import Role
from extensions import db
from tests.conftest import PASSWORD, Auth, make_config
from tests.ebook.conftest import signup_data, tariff_id
from tests.registration.conftest import customer_fields, world  # noqa: F401 - fixture

SAVES = 20


def logged_in(app, username, count=SAVES):
    clients = []
    for _ in range(count):
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        Auth(client).login(username)
        clients.append(client)
    return clients


def at_once(clients, requests):
    """Each client sends its request (url, form data or None for a GET) at the same moment. Returns the answers."""
    start = threading.Barrier(len(requests))
    answers = [None] * len(requests)

    def send(n):
        start.wait()
        url, data = requests[n]
        answers[n] = clients[n].get(url) if data is None else clients[n].post(url, data=data)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return answers


def test_twenty_simultaneous_ebook_signups_are_all_stored_with_distinct_card_numbers(app, make_unit, make_user):
    """A new branch, as a new library would try it: twenty counters open the form at the same
    moment (the first visit gives the branch its tariffs), then save at the same moment."""
    gieten = make_unit(UnitKind.BRANCH, name="Gieten", code="GIETEN", branch_code="9428")
    make_user("balie", (Role.COUNTER_STAFF, gieten), language="nl")
    clients = logged_in(app, "balie")
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
    assert sorted(numbers) == [ebook.card_number_for("9428", n) for n in range(1, SAVES + 1)]


def test_twenty_simultaneous_registrations_are_all_stored(app, world):
    codes = [make_hetu(date(1970 + n, 3, 4), 100 + n) for n in range(SAVES)]
    answers = at_once(logged_in(app, "reg"), [(f"/registration/units/{world['L']}/customers/new",
                                    customer_fields(last_name=f"Racer{n}", hetu=code)) for n, code in enumerate(codes)])
    assert [a.status_code for a in answers] == [302] * SAVES
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == SAVES


@pytest.fixture
def locked_sqlite_app(tmp_path):
    """An app on its own SQLite file whose writes wait only a moment for the lock, and a
    connection of someone else holding that lock."""
    if not make_config(tmp_path)["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("the busy timeout is SQLite's; PostgreSQL writers wait on row locks")
    path = tmp_path / "busy.db"
    app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", SQLITE_BUSY_TIMEOUT_SECONDS=0.2))
    with app.app_context():
        db.create_all()
        gieten = accounts.create_unit("GIETEN", "Gieten", UnitKind.BRANCH, "9428")
        accounts.create_user("balie", "Balie", "balie@example.org", "en", PASSWORD, [(Role.COUNTER_STAFF, gieten)])
        library = accounts.create_unit("LIB", "Library", UnitKind.LIBRARY, None)
        accounts.create_user("reg", "Reg", "reg@example.org", "en", PASSWORD, [(Role.REGISTRAR, library)])
        ebook.seed_tariffs(gieten)
        db.session.commit()
        ids = {"gieten": gieten.id, "library": library.id}
        tariff = str(tariff_id(app, gieten.id, "0141"))
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    other_writer = sqlite3.connect(path, isolation_level=None)
    yield app, client, ids, tariff, other_writer
    other_writer.close()
    with app.app_context():
        db.engine.dispose()


def test_a_signup_that_cannot_get_the_lock_keeps_the_form_and_says_save_again(locked_sqlite_app):
    app, client, ids, tariff, other_writer = locked_sqlite_app
    Auth(client).login("balie")
    other_writer.execute("BEGIN IMMEDIATE")
    answer = client.post(f"/ebook/branches/{ids['gieten']}/customers/new", data=signup_data(surname="Geduldig", tariff=tariff))
    other_writer.execute("ROLLBACK")
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
    other_writer.execute("BEGIN IMMEDIATE")
    answer = client.post(f"/registration/units/{ids['library']}/customers/new",
                         data=customer_fields(last_name="Kärsivällinen", hetu=code))
    other_writer.execute("ROLLBACK")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 503
    assert "nothing was saved" in page and "save again" in page
    assert 'value="Kärsivällinen"' in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 0


def test_any_other_write_that_cannot_get_the_lock_answers_503_not_500(locked_sqlite_app):
    app, client, ids, _tariff, other_writer = locked_sqlite_app
    Auth(client).login("balie")
    other_writer.execute("BEGIN IMMEDIATE")
    answer = client.post("/language", data={"language": "nl"})
    other_writer.execute("ROLLBACK")
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
    answers = at_once(clients, [("/chat/customer/", {"queue": queue_id, "name": f"Asiakas {n}", "question": f"Kysymys {n}"})
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
    answers = at_once(clients, [("/chat/customer/message", {"body": f"Rivi {n}", "key": f"k{n}"}) for n in range(SAVES)])
    assert [a.status_code for a in answers] == [200] * SAVES
    with app.app_context():
        bodies = db.session.scalars(select(ChatMessage.body)).all()
    assert sorted(bodies) == sorted(f"Rivi {n}" for n in range(SAVES))
