"""Identity codes never travel in a URL, and every answer to "is this code a customer
anywhere?" is audited and counted against the asker's rate limit."""
import re
from datetime import date

import pytest
from flask import request, request_started
from sqlalchemy import select

from blueprints.registration.demo import make_hetu
from blueprints.registration.models import Customer, CustomerStatus
from common.audit import AuditEvent
from extensions import db, limiter
from tests.registration.conftest import ADULT, customer_fields

URL_ATTRIBUTES = re.compile(r'(?:href|action|hx-get|hx-post|src)="([^"]*)"')


def lookups(app, action="customer.hetu_checked"):
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


@pytest.fixture
def requested_urls(app):
    """Every URL the server is asked for, as an access log writes it."""
    seen = []

    def log(sender, **extra):
        seen.append(request.full_path)

    request_started.connect(log, app)
    yield seen
    request_started.disconnect(log, app)


def test_checking_and_adding_a_customer_never_puts_the_code_in_a_url(client, auth, world, requested_urls):
    auth.login("reg")
    unit = f"/registration/units/{world['L']}"
    pages = [client.get(unit).text]
    pages.append(client.post(f"{unit}/check", data={"hetu": ADULT}, headers={"HX-Request": "true"}).text)
    pages.append(client.post(f"{unit}/customers/new", data={"hetu": ADULT, "start": "1"}).text)
    saved = client.post(f"{unit}/customers/new", data=customer_fields(hetu=ADULT), follow_redirects=True)
    assert "The customer is registered" in saved.text
    pages.append(saved.text)
    pages.append(client.post(f"{unit}/check", data={"hetu": ADULT}, headers={"HX-Request": "true"}).text)
    assert len(requested_urls) == 7  # the login, then six
    assert not [url for url in requested_urls if ADULT in url]
    links = [url for page in pages for url in URL_ATTRIBUTES.findall(page)]
    assert links and not [url for url in links if ADULT in url or "hetu=" in url]


def test_a_check_by_get_is_not_answered(client, auth, world):
    auth.login("reg")
    assert client.get(f"/registration/units/{world['L']}/check", query_string={"hetu": ADULT}).status_code == 405
    assert client.get(f"/registration/units/{world['L']}/customers/new",
                      query_string={"hetu": ADULT}).status_code == 405


def test_already_registered_on_saving_is_audited_as_a_lookup(client, auth, world, add_customer, app):
    cid = add_customer(world["L2"])
    auth.login("reg")
    response = client.post(f"/registration/units/{world['L']}/customers/new", data=customer_fields(hetu=ADULT))
    assert response.status_code == 409
    [event] = lookups(app)
    assert event.detail["purpose"] == "register" and event.detail["outcome"] == "registered_already"
    assert event.object_id == str(cid) and event.unit_id == world["L"] and ADULT not in str(event.detail)


def test_a_reactivation_request_is_audited_and_answers_alike_for_any_code_not_marked(client, auth, world, add_customer,
                                                                                     app):
    add_customer(world["L2"])  # active in another unit
    auth.login("reg")
    url = f"/registration/units/{world['L']}/reactivation-request"
    unknown = client.post(url, data={"hetu": make_hetu(date(1970, 5, 5), 222)})
    active = client.post(url, data={"hetu": ADULT})
    assert unknown.status_code == active.status_code == 404
    events = lookups(app)
    assert [e.detail["purpose"] for e in events] == ["reactivation", "reactivation"]
    assert [e.detail["outcome"] for e in events] == ["new", "found"]


def test_a_transfer_is_audited_as_a_lookup(client, auth, world, add_customer, app):
    add_customer(world["L2"])
    auth.login("reg")
    client.post(f"/registration/units/{world['L']}/transfer", data={"hetu": ADULT, "basis": "reading_disability"})
    assert [e.detail["purpose"] for e in lookups(app)] == ["transfer"]


@pytest.fixture
def throttle(app):
    saved = app.config["HETU_LOOKUP_RATE_LIMIT"]
    app.config["HETU_LOOKUP_RATE_LIMIT"] = "3 per minute"
    limiter.enabled = True
    limiter.reset()
    yield
    limiter.reset()
    limiter.enabled = False
    app.config["HETU_LOOKUP_RATE_LIMIT"] = saved


def test_lookups_over_the_limit_get_429_with_a_message_and_the_admin_sees_it(client, auth, world, add_customer, app,
                                                                             throttle):
    cid = add_customer(world["L"], code=make_hetu(date(1960, 1, 1), 111))
    with app.app_context():
        db.session.get(Customer, cid).status = CustomerStatus.MARKED_FOR_DELETION
        db.session.commit()
    auth.login("reg")
    unit = f"/registration/units/{world['L']}"
    codes = [make_hetu(date(1990, 1, n), 100 + n) for n in range(1, 6)]
    # Every kind of lookup counts: a check, a reactivation request, saving a new customer.
    assert client.post(f"{unit}/check", data={"hetu": codes[0]}, headers={"HX-Request": "true"}).status_code == 200
    assert client.post(f"{unit}/reactivation-request", data={"hetu": codes[1]}).status_code == 404
    assert client.post(f"{unit}/customers/new", data=customer_fields(hetu=codes[2])).status_code == 302
    refused = client.post(f"{unit}/check", data={"hetu": codes[3]}, headers={"HX-Request": "true"})
    assert refused.status_code == 429 and "Wait a minute" in refused.text and codes[3] not in refused.text
    assert client.post(f"{unit}/customers/new", data=customer_fields(hetu=codes[4])).status_code == 429
    # The check and the reactivation request are audited as lookups (the save as a registration);
    # the refused ones looked nothing up.
    assert [e.detail["purpose"] for e in lookups(app)] == ["check", "reactivation"]
    [first, _second] = lookups(app, "customer.hetu_lookups_throttled")
    assert first.unit_id == world["L"]
    auth.logout()
    auth.login("celia")
    assert "customer.hetu_lookups_throttled" in client.get("/admin/audit").text


def test_the_limit_is_per_user(client, auth, world, app, throttle):
    unit = f"/registration/units/{world['L']}"
    for name in ("reg", "colleague"):
        auth.login(name)
        answers = [client.post(f"{unit}/check", data={"hetu": ADULT}, headers={"HX-Request": "true"}).status_code
                   for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        auth.logout()
