"""No input answers 500: every rule of the URL map, asked as each kind of user and anonymously,
with hostile values in every path and query parameter and in every form field."""
import time
from urllib.parse import quote

import pytest
from flask_wtf import FlaskForm
from wtforms.fields.core import UnboundField

from blueprints.accounts.models import Unit
from blueprints.ebook import pricing
from blueprints.ebook.models import Tariff
from extensions import db
from tests.conftest import english_client
from tests.matrix import all_routes
from tests.test_authorization import build_world, login_as

ROUTES, _PREPARERS = all_routes()
HOSTILE = ["99999999999999999999999", "-1", "abc", "../../etc/passwd", "'\"><x>", "a\x00b", ""]
QUERY_NAMES = ["page", "queue", "conversation", "internal", "colleagues", "branch", "unit", "version", "from", "to",
               "q", "tab", "kind", "next", "action", "actor", "object", "hetu"]
# One of each kind of user of the authorisation matrix (the *_other ones are the same roles).
IDENTITIES = ["admin", "main_user", "registrar", "counter", "agent", "guide", "nobody", None]


def form_field_names():
    """Every field of every form on the site, and the few fields read without a form."""
    names = {"body", "hetu", "start", "recipient", "back", "confirm", "direction", "ticked", "language", "next"}
    pending = list(FlaskForm.__subclasses__())
    while pending:
        form = pending.pop()
        pending.extend(form.__subclasses__())
        names.update(name for name in dir(form) if isinstance(getattr(form, name, None), UnboundField))
    return sorted(names)


def ordered_arguments(rule):
    """The rule's variables in the order they appear in its path."""
    names, rest = [], rule.rule
    while "<" in rest:
        start, end = rest.index("<"), rest.index(">")
        names.append(rest[start + 1:end].split(":")[-1])
        rest = rest[end + 1:]
    return names


def requests_for(rule, world, fields):
    access = ROUTES[rule.endpoint]
    good = access.args(world)
    methods = sorted(rule.methods & {"GET", "POST"})
    for value in HOSTILE:
        data = {name: value for name in fields}
        for method in methods:
            if rule.arguments:
                path = rule.rule
                for _argument in ordered_arguments(rule):  # each placeholder, in order
                    start, end = path.index("<"), path.index(">")
                    path = path[:start] + quote(value, safe="") + path[end + 1:]
                yield method, path, {}, data
            path = rule.rule
            for name in ordered_arguments(rule):
                start, end = path.index("<"), path.index(">")
                path = path[:start] + quote(str(good[name]), safe="") + path[end + 1:]
            yield method, path, {name: value for name in QUERY_NAMES}, data
    for method in methods:
        yield method, path, {"from": "0001-01-01", "to": "9999-12-31"}, {}


@pytest.mark.parametrize("identity", IDENTITIES, ids=lambda name: name or "anonymous")
def test_no_route_answers_5xx_to_hostile_input(app, identity):
    with app.app_context():
        world = build_world()
    fields = form_field_names()
    rules = sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static"), key=lambda r: r.rule)
    failures = []
    started = time.monotonic()
    for rule in rules:
        client = english_client(app)
        if identity:
            with app.app_context():
                login_as(client, world.users[identity])
        for method, path, query, data in requests_for(rule, world, fields):
            try:  # the test app lets exceptions through (TESTING): each one would be a 500
                response = client.open(path, method=method, query_string=query, data=data if method == "POST" else None)
            except Exception as error:  # noqa: BLE001 - any of them is the finding
                failures.append(f"{method} {path} {sorted(query.items())[:1]}…: "
                                f"{type(error).__name__}: {str(error)[:120]}")
                continue
            if response.status_code >= 500:
                failures.append(f"{method} {path} {sorted(query.items())[:1]}…: {response.status_code}")
    assert not failures, \
        f"{len(failures)} answers of 5xx in {time.monotonic() - started:.0f} s:\n" + "\n".join(failures[:60])


def test_statistics_dates_out_of_bounds_are_refused_at_the_form(client, auth, make_user, make_unit):
    make_user("opastaja", ("guide", make_unit()))
    auth.login("opastaja")
    response = client.get("/guide/statistics", query_string={"from": "0001-01-01", "to": "9999-12-31"})
    assert response.status_code == 422 and "Give a date between 1 Jan 2000 and" in response.text
    assert client.get("/guide/statistics.csv", query_string={"from": "0001-01-01"}).status_code == 422


@pytest.mark.parametrize("kind", ["", "no-such-kind"])
def test_a_tariff_without_a_known_kind_is_refused_at_the_field(app, client, auth, make_user, make_unit, kind):
    branch = make_unit(kind="branch", branch_code="9428")
    make_user("celia", ("service_admin", None))
    with app.app_context():
        pricing.seed_tariffs(db.session.get(Unit, branch))
        db.session.commit()
        tariff = db.session.scalars(db.select(Tariff)).first()
        fields = {"name": tariff.name, "price_cents": tariff.price_cents, "period_months": tariff.period_months,
                  "kind": kind}
        url = f"/ebook/tariffs/{tariff.id}/edit"
    auth.login("celia")
    response = client.post(url, data=fields)
    assert response.status_code == 422 and "Not a valid choice" in response.text


def test_ids_too_large_for_the_database_answer_404(client, auth, make_user, make_unit):
    make_user("celia", ("service_admin", None))
    auth.login("celia")
    assert client.get("/registration/customers/99999999999999999999999").status_code == 404
    assert client.get("/registration/customers/2147483648").status_code == 404
    assert client.get("/admin/users", query_string={"page": "99999999999999999999999"}).status_code == 404
    assert client.get("/chat/", query_string={"queue": "99999999999999999999999"}).status_code in (403, 404)


def test_a_nul_character_is_refused_with_422(client, auth, make_user):
    make_user("celia", ("service_admin", None))
    auth.login("celia")
    response = client.post("/admin/notices", data={"text": "Katko\x00"})
    assert response.status_code == 422 and "NUL character" in response.text
    assert client.post("/admin/users", data={"q": "a\x00"}).status_code == 422
