"""The live contract: every event the server announces is listened to by some page, and every
event a page listens to is announced. Each area declares its events in its own live.py and
announces them only from there; pages subscribe through the live_region macro (or, for the
few events a script handles itself, a "live:<event>" listener)."""
import ast
import importlib
import re
from pathlib import Path

from common import live, live_queue
from extensions import AREAS

ROOT = Path(__file__).resolve().parent.parent
LIVE_CALLS = {"announce", "emit_now"}
# The socket module's own events, not the server's: connected, disconnected, reconnect, appended.
SCRIPT_EVENTS = {"connected", "disconnected", "reconnect", "appended"}


def declared_events():
    events = {name: "the live message queue" for name in live_queue.EVENTS}
    events[live.LEAVING] = "a stopping server process"
    for area in AREAS:
        module = importlib.import_module(f"blueprints.{area}.live")
        for name in module.EVENTS:
            events[name] = area
    return events


def live_calls(path):
    """(function name, first argument) of every call of live.announce / live.emit_now."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in LIVE_CALLS:
            if isinstance(node.func.value, ast.Name) and node.func.value.id == "live":
                yield node.func.attr, node.args[0] if node.args else None


def test_events_are_announced_only_from_each_areas_live_module():
    for path in sorted((ROOT / "blueprints").rglob("*.py")):
        calls = list(live_calls(path))
        if path.name == "live.py":
            module = importlib.import_module(f"blueprints.{path.parent.name}.live")
            for _, argument in calls:
                assert isinstance(argument, ast.Name), f"{path}: an event named by a constant of its EVENTS"
                assert getattr(module, argument.id) in module.EVENTS, f"{path}: {argument.id} is not in EVENTS"
        else:
            assert not calls, f"{path} announces directly; use its area's live.py"


def listened_events():
    listened = set()
    call = re.compile(r"live_region\(\s*\"[^\"]+\"\s*,.*?,\s*\[([^\]]*)\]", re.S)
    for path in (ROOT / "templates").rglob("*.html"):
        for names in call.findall(path.read_text()):
            listened |= set(re.findall(r"\"([a-z-]+)\"", names))
    for path in (ROOT / "static" / "js").glob("*.js"):
        text = path.read_text()
        listened |= set(re.findall(r"\"live:([a-z-]+)\"", text)) - SCRIPT_EVENTS
        listened |= set(re.findall(r"message\.event === \"([a-z-]+)\"", text))
    return listened


def test_every_announced_event_is_listened_to_and_every_listened_event_announced():
    announced = set(declared_events())
    listened = listened_events()
    assert announced - listened == set(), f"announced, but no page listens: {sorted(announced - listened)}"
    assert listened - announced == set(), f"listened to, but never announced: {sorted(listened - announced)}"


def test_the_contract_test_sees_the_desk_and_the_customer_page():
    # A guard for the parser above: these are known subscriptions.
    listened = listened_events()
    assert {"chat-changed", "chat-message", "customer-changed", "video-signal", "roles-changed"} <= listened
