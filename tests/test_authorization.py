"""Every route, asked by every kind of user: each gets exactly the status the matrix names.

A route that is missing from tests/matrix/ fails here, so no new page escapes the check.
"""
import re
import time
from dataclasses import dataclass, field

import pytest
from flask import url_for
from sqlalchemy import delete

from blueprints.accounts import service
from blueprints.accounts.models import UnitKind, User
from common.access import Role
from extensions import db
from tests.matrix import PUBLIC, STAFF, all_routes

ROUTES, PREPARERS = all_routes()

# The world: units of each kind, and one user for each kind of access in tests/matrix.
UNITS = {
    "L": ("Library L", UnitKind.LIBRARY, None),
    "L2": ("Library L2", UnitKind.LIBRARY, None),
    "S": ("School S", UnitKind.SCHOOL, None),
    "B": ("Branch B", UnitKind.BRANCH, "9428"),
    "B2": ("Branch B2", UnitKind.BRANCH, "9468"),
}
USERS = {
    "admin": [(Role.SERVICE_ADMIN, None)],
    "main_user": [(Role.MAIN_USER, "L")],
    "registrar": [(Role.REGISTRAR, "L")],
    "registrar_other": [(Role.REGISTRAR, "L2")],
    "counter": [(Role.COUNTER_STAFF, "B")],
    "counter_other": [(Role.COUNTER_STAFF, "B2")],
    "agent": [(Role.CHAT_AGENT, "L")],
    "agent_other": [(Role.CHAT_AGENT, "L2")],
    "guide": [(Role.GUIDE, "L")],
    "guide_other": [(Role.GUIDE, "L2")],
    "nobody": [],
}


@dataclass
class World:
    units: dict
    users: dict
    extra: dict = field(default_factory=dict)


def build_world():
    units = {code: service.create_unit(code, name, kind, branch) for code, (name, kind, branch) in UNITS.items()}
    users = {
        name: service.create_user(name, name.title(), f"{name}@example.org", "en", None,
                                  [(r, units.get(c)) for r, c in roles])
        for name, roles in USERS.items()
    }
    world = World(units, users)
    for prepare in PREPARERS:
        prepare(world)
    db.session.commit()
    # Requests run outside this app context, so keep only the ids of the objects.
    world.units = {code: Ref(unit.id) for code, unit in units.items()}
    world.users = {name: Ref(user.id) for name, user in users.items()}
    return world


def fresh_world(app):
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(delete(table))
        db.session.commit()
        return build_world()


@dataclass
class Ref:
    id: int


def request(client, access, world, path):
    if access.method == "POST":
        return client.post(path, data=access.data(world))
    return client.get(path)


def login_as(client, user):
    # The version as it is now: an earlier request may have ended the user's sessions.
    version = db.session.get(User, user.id).session_version
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
        session["session_version"] = version
        session["login_at"] = session["seen_at"] = int(time.time())


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - ROUTES.keys())
    assert not missing, f"routes missing from tests/matrix: {missing}"
    stale = sorted(ROUTES.keys() - endpoints)
    assert not stale, f"tests/matrix lists routes that no longer exist: {stale}"


def passes_roles_required(app, endpoint, user_name):
    """Does the user hold a role that gets past the route's roles_required (or its login)?"""
    roles = getattr(app.view_functions[endpoint], "required_roles", None)
    held = {role for role, _unit in USERS[user_name]}
    if roles is None:
        return True
    return Role.SERVICE_ADMIN in held or bool(held & set(roles))


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_route_answers_each_user_as_the_matrix_says(app, endpoint):
    access = ROUTES[endpoint]
    with app.app_context():
        world = build_world()
    def path_in(world):
        with app.test_request_context():
            return url_for(endpoint, **access.args(world))

    path = path_in(world)
    allowed = STAFF if access.allowed == PUBLIC else access.allowed
    wrong = []
    for name in USERS:
        if name in allowed and access.method == "POST":
            # What the route answers each allowed user, not what is left after another's change;
            # the new world's objects have new ids on PostgreSQL, whose sequences go on.
            world = fresh_world(app)
            path = path_in(world)
        user = world.users[name]
        client = app.test_client()
        with app.app_context():
            login_as(client, user)
        response = request(client, access, world, path)
        if name in allowed:
            expected = access.expected_for_allowed(name)
            # Flask-Login sends the refused to /login?next=...; a route's own redirect has no next.
            assert "next=" not in response.headers.get("Location", ""), f"{name} was sent to login from {endpoint}"
        else:
            expected = access.refused.get(name, 404 if passes_roles_required(app, endpoint, name) else 403)
        if response.status_code != expected:
            wrong.append(f"{name} got {response.status_code}, not {expected}")
    assert not wrong, f"{endpoint}: " + "; ".join(wrong)
    anonymous = request(app.test_client(), access, world, path)
    if access.allowed == PUBLIC:
        assert anonymous.status_code not in (401, 403), f"anonymous was refused {endpoint}"
    else:
        assert anonymous.status_code in access.anonymous_status, \
            f"anonymous got {anonymous.status_code} from {endpoint}"
        if anonymous.status_code == 302:
            assert "/login" in anonymous.headers["Location"]


@pytest.mark.parametrize("endpoint, user, argument, key", [
    ("registration.customer", "registrar_other", "customer_id", "customer"),
    ("ebook.customer", "counter_other", "customer_id", "ebook_customer"),
    ("guide.session_view", "guide_other", "session_id", "guide_session"),
    ("chat.transfer_form", "agent_other", "conversation_id", "conversation"),
])
def test_another_units_object_answers_exactly_like_a_missing_one(app, endpoint, user, argument, key):
    with app.app_context():
        world = build_world()
    client = app.test_client()
    with app.app_context():
        login_as(client, world.users[user])
    with app.test_request_context():
        theirs = url_for(endpoint, **{argument: world.extra[key]})
        missing = url_for(endpoint, **{argument: world.extra[key] + 1000})
    answers = [client.get(path) for path in (theirs, missing)]
    assert [a.status_code for a in answers] == [404, 404]
    # The same page, but for the address itself (the language switch names the page it is on).
    # The pages' CSRF tokens are signed with the time, so they may differ by a second.
    def page(answer, path):
        return re.sub(r"(X-CSRFToken\": \"|name=\"csrf_token\" value=\")[^\"]+", r"\1TOKEN",
                      answer.text.replace(path, "PATH"))

    assert page(answers[0], theirs) == page(answers[1], missing)
