"""The authorisation matrix: every route of the site with who may use it.

Each area has a module here with ROUTES = {endpoint: Access(...)} and, when its routes
need objects, prepare(world) that creates them. tests/test_authorization.py checks that
every route in the app's url_map is listed, and asks each route as every kind of user.
"""
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

# The people of the test world (see tests/test_authorization.py), by what they are.
ADMIN = "admin"
MAIN_USER = "main_user"  # main user of library L
REGISTRAR = "registrar"  # registrar of library L
REGISTRAR_OTHER = "registrar_other"  # registrar of library L2
COUNTER = "counter"  # counter staff of branch B (9428)
COUNTER_OTHER = "counter_other"  # counter staff of branch B2 (9468)
AGENT = "agent"  # chat agent of library L
AGENT_OTHER = "agent_other"  # chat agent of library L2
GUIDE = "guide"  # guide of library L
GUIDE_OTHER = "guide_other"  # guide of library L2
NOBODY = "nobody"  # logged in, no roles
STAFF = frozenset({ADMIN, MAIN_USER, REGISTRAR, REGISTRAR_OTHER, COUNTER, COUNTER_OTHER, AGENT, AGENT_OTHER, GUIDE,
                   GUIDE_OTHER, NOBODY})
PUBLIC = "public"  # anyone, logged in or not


@dataclass
class Access:
    """Who may use a route and exactly what each asker gets.

    An allowed user gets `status` (by default 200 for a GET, 302 for a POST), or what `answers`
    names for them. A refused user gets 403 when no role of theirs passes the route's
    roles_required, and 404 when one does but the object is another unit's (no id reveals what
    other units hold); `refused` names the exceptions, e.g. a colleague who may read but not write."""

    allowed: frozenset | str  # who gets through (STAFF, PUBLIC, or a set of the names above)
    method: str = "GET"
    args: Callable = lambda world: {}  # url arguments, from the objects of the world
    data: Callable = lambda world: {}  # form data for a POST
    anonymous_status: tuple = (302, 401)  # what someone not logged in gets
    status: int | None = None
    answers: dict = field(default_factory=dict)  # allowed user -> status, where it differs
    refused: dict = field(default_factory=dict)  # refused user -> status, where the rule above does not say it
    notes: str = field(default="")

    def expected_for_allowed(self, name):
        return self.answers.get(name, self.status or (302 if self.method == "POST" else 200))


def all_routes():
    routes, preparers = {}, []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        duplicated = routes.keys() & module.ROUTES.keys()
        assert not duplicated, f"listed twice: {duplicated}"
        routes.update(module.ROUTES)
        if hasattr(module, "prepare"):
            preparers.append(module.prepare)
    return routes, preparers
