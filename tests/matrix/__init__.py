"""The authorisation matrix: every route of the site with who may use it.

Each area has a module here with ROUTES = {endpoint: Access(...)} and, when its routes
need objects, prepare(world) that creates them. tests/test_authorization.py checks that
every route in the app's url_map is listed, and asks each route as every kind of user.
"""
import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Callable

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
STAFF = frozenset({ADMIN, MAIN_USER, REGISTRAR, REGISTRAR_OTHER, COUNTER, COUNTER_OTHER, AGENT, AGENT_OTHER, GUIDE, GUIDE_OTHER, NOBODY})
PUBLIC = "public"  # anyone, logged in or not


@dataclass
class Access:
    allowed: frozenset | str  # who gets through (STAFF, PUBLIC, or a set of the names above)
    method: str = "GET"
    args: Callable = lambda world: {}  # url arguments, from the objects of the world
    data: Callable = lambda world: {}  # form data for a POST
    anonymous_status: tuple = (302, 401)  # what someone not logged in gets
    notes: str = field(default="")


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
