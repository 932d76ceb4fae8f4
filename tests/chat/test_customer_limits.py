"""Rate limits that do not punish a library PC room, where every customer shares one address:
a customer's lines are limited per conversation, the address has only a ceiling against floods,
and the join limit holds however many joins come at once.

On memory storage here; CI runs the same tests again with REDIS_URL, where the app's limiter
counts in Redis (tests/conftest.py: make_config), so both storages are proved."""
import threading

import pytest
from sqlalchemy import func, select

from blueprints.chat import service
from blueprints.chat.models import Conversation
from common.refusals import Refused
from extensions import db, limiter
from tests.chat.conftest import join
from tests.conftest import in_threads


@pytest.fixture
def limits_on(app):
    limiter.reset()
    limiter.enabled = True
    yield app
    limiter.enabled = False
    limiter.reset()


def send(browser, body):
    return browser.post("/chat/customer/message", data={"body": body})


def test_ten_customers_of_one_pc_room_write_forty_lines_and_none_is_refused(app, desk, limits_on):
    customers = [app.test_client() for _ in range(10)]  # ten PCs, one address
    for number, customer in enumerate(customers):
        assert join(customer, desk, name=f"Asiakas {number}").status_code == 302
    statuses = [send(customer, f"rivi {line}").status_code for line in range(4) for customer in customers]
    assert statuses == [200] * 40


def test_a_customers_lines_are_limited_in_their_own_conversation_only(app, desk, limits_on, monkeypatch):
    monkeypatch.setitem(app.config, "CHAT_MESSAGE_RATE_LIMIT", "5 per minute")
    toni, sara = app.test_client(), app.test_client()  # two conversations on one address
    join(toni, desk, name="Toni")
    join(sara, desk, name="Sara")

    assert [send(toni, f"t{i}").status_code for i in range(5)] == [200] * 5
    too_fast = send(toni, "t5")

    assert too_fast.status_code == 429
    page = too_fast.get_data(as_text=True)
    assert "You are sending lines faster than the chat takes them." in page and "t5" in page  # kept to send again
    assert [send(sara, f"s{i}").status_code for i in range(5)] == [200] * 5  # Sara's chat is her own


def test_the_address_has_a_ceiling_against_floods(app, desk, limits_on, monkeypatch):
    monkeypatch.setitem(app.config, "CHAT_MESSAGE_RATE_LIMIT", "5 per minute")
    monkeypatch.setitem(app.config, "CHAT_MESSAGE_ADDRESS_RATE_LIMIT", "8 per minute")
    toni, sara = app.test_client(), app.test_client()
    join(toni, desk, name="Toni")
    join(sara, desk, name="Sara")
    statuses = [send(toni, "t").status_code for _ in range(4)] + [send(sara, "s").status_code for _ in range(5)]
    assert statuses == [200] * 8 + [429]


def test_joins_sent_at_once_from_one_address_stay_within_the_limit(app, desk, limits_on, monkeypatch):
    """Sixteen browsers of one address join at the same moment; the limit is ten a minute."""
    monkeypatch.setitem(app.config, "CHAT_JOIN_RATE_LIMIT", "10 per minute")
    browsers = [app.test_client() for _ in range(16)]
    start = threading.Barrier(len(browsers))
    statuses = []

    def join_at_once(number):
        start.wait()
        statuses.append(join(browsers[number], desk, name=f"Asiakas {number}").status_code)

    in_threads(join_at_once, [(number,) for number in range(len(browsers))])

    assert sorted(statuses) == [302] * 10 + [429] * 6
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Conversation)) == 10


def test_a_join_refused_after_it_was_counted_is_given_back_to_the_limit(app, desk, limits_on, monkeypatch):
    """The queue closes between the form's check and the join: refused, and not counted."""
    monkeypatch.setitem(app.config, "CHAT_JOIN_RATE_LIMIT", "2 per minute")

    def closed_meanwhile(*args, **kwargs):
        raise Refused("This queue is closed.", field="queue")

    with monkeypatch.context() as patched:
        patched.setattr(service, "join", closed_meanwhile)
        assert [join(app.test_client(), desk).status_code for _ in range(3)] == [422] * 3
    assert [join(app.test_client(), desk, name=f"C{i}").status_code for i in range(3)] == [302, 302, 429]
