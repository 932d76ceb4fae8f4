"""An ended session takes its open sockets with it: after the commit that ends a user's sessions
(an admin's "log out everywhere", a password change, a lockout, a deactivation, a removed role)
the server disconnects those sockets, and a new connection with the old cookie is refused. A
session that goes on keeps its socket; a granted role makes the page take a socket with the new
rooms. Across processes the same check travels through the Redis message queue."""
import shutil
import subprocess
import threading

import pytest
import redis

from blueprints.accounts import service
from blueprints.accounts.models import RoleAssignment, User
from blueprints.chat.models import StaffPresence
from common import live
from common.access import Role
from common.live_queue import LiveMessageQueue
from extensions import db, socketio
from tests.conftest import PASSWORD, Auth, eventually, free_port, needs_local_socketio

NEW_PASSWORD = "another-long-passphrase-42"


@pytest.fixture
def browser(app):
    def open_as(username, password=PASSWORD):
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        assert Auth(client).login(username, password).status_code == 302
        return client

    return open_as


@pytest.fixture
def staff(app, browser, make_user, make_unit):
    """riikka (a registrar and a chat agent of a library), her logged-in browser and its open
    socket, and a service admin's browser."""
    unit = make_unit()
    make_user("celia", (Role.SERVICE_ADMIN, None))
    uid = make_user("riikka", (Role.REGISTRAR, unit), (Role.CHAT_AGENT, unit))
    page = browser("riikka")
    socket = socketio.test_client(app, flask_test_client=page)
    assert socket.is_connected()
    yield {"uid": uid, "unit": unit, "page": page, "socket": socket, "admin": browser("celia")}
    if socket.is_connected():
        socket.disconnect()


def dropped_for_good(app, page, socket):
    """The server closed the socket, and the page's cookie opens no new one."""
    assert eventually(lambda: not socket.is_connected(), timeout=30), "the socket stays open"
    again = socketio.test_client(app, flask_test_client=page)
    if again.is_connected():
        again.disconnect()
        return False
    return True


def unit_events(app, unit, socket):
    with app.app_context():
        live.emit_now("customers-changed", room=live.unit_room(unit), unit=unit)
    return [e["args"][0]["event"] for e in socket.get_received()
            if e["name"] == "live" and e["args"][0]["event"] == "customers-changed"]


@needs_local_socketio
def test_an_admin_ending_the_sessions_drops_the_users_socket(app, staff):
    staff["admin"].post(f"/admin/users/{staff['uid']}/end-sessions")
    assert dropped_for_good(app, staff["page"], staff["socket"])


@needs_local_socketio
def test_a_password_change_drops_the_other_sessions_sockets_and_its_own_goes_on_in_a_new_one(app, staff, browser):
    desk = browser("riikka")
    desk_socket = socketio.test_client(app, flask_test_client=desk)
    response = desk.post("/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                            "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert dropped_for_good(app, staff["page"], staff["socket"])
    # The password page's own socket was opened with the cookie of before (the page goes on to
    # another, which the session opens with its new cookie), so it goes too; the session goes on.
    assert eventually(lambda: not desk_socket.is_connected(), timeout=30)
    fresh = socketio.test_client(app, flask_test_client=desk)
    assert fresh.is_connected()
    assert "customers-changed" in unit_events(app, staff["unit"], fresh)
    fresh.disconnect()


@needs_local_socketio
def test_a_lockout_drops_the_users_socket(app, staff):
    stranger = app.test_client()
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        Auth(stranger).login("riikka", "wrong password here")
    assert dropped_for_good(app, staff["page"], staff["socket"])


@needs_local_socketio
def test_deactivating_the_account_drops_its_socket_and_reactivating_brings_no_session_back(app, staff):
    form = {"username": "riikka", "display_name": "Riikka", "email": "riikka@example.org", "language": "en"}
    staff["admin"].post(f"/admin/users/{staff['uid']}", data=form)  # `active` unticked
    with app.app_context():
        assert db.session.get(User, staff["uid"]).active is False
    assert dropped_for_good(app, staff["page"], staff["socket"])
    staff["admin"].post(f"/admin/users/{staff['uid']}", data={**form, "active": "y"})
    assert staff["page"].get("/").status_code == 302


@needs_local_socketio
def test_removing_a_role_drops_the_socket_opened_with_it(app, staff):
    with app.app_context():
        assignment = db.session.scalar(db.select(RoleAssignment).where(
            RoleAssignment.user_id == staff["uid"], RoleAssignment.role == Role.CHAT_AGENT))
    staff["admin"].post(f"/admin/users/{staff['uid']}/roles/{assignment.id}/revoke")
    assert dropped_for_good(app, staff["page"], staff["socket"])


@needs_local_socketio
def test_a_granted_role_tells_the_page_to_reconnect_into_the_new_rooms(app, staff, make_unit):
    other = make_unit()
    staff["socket"].get_received()
    assert unit_events(app, other, staff["socket"]) == []
    with app.app_context():
        service.grant_role(db.session.get(User, staff["uid"]), Role.GUIDE, db.session.get(service.Unit, other))
    assert "roles-changed" in [e["args"][0]["event"] for e in staff["socket"].get_received() if e["name"] == "live"]
    assert staff["socket"].is_connected(), "the session goes on"
    staff["socket"].disconnect()  # what live.js does on roles-changed
    staff["socket"].connect()
    assert "customers-changed" in unit_events(app, other, staff["socket"])
    staff["socket"].disconnect()


@needs_local_socketio
def test_a_dropped_agents_socket_still_counts_as_gone(app, staff):
    with app.app_context():
        assert db.session.get(StaffPresence, staff["uid"]).sockets == 1
    staff["admin"].post(f"/admin/users/{staff['uid']}/end-sessions")
    assert eventually(lambda: not staff["socket"].is_connected(), timeout=30)

    def presence_gone():
        with app.app_context():
            return db.session.get(StaffPresence, staff["uid"]).sockets == 0

    assert eventually(presence_gone, timeout=30)


@needs_local_socketio
def test_a_rolled_back_change_drops_no_socket(app, staff):
    with app.app_context(), pytest.raises(RuntimeError), service.write_transaction():
        service.end_sessions(db.session.get(User, staff["uid"]))
        raise RuntimeError("rolled back")
    assert staff["page"].get("/").status_code == 200
    assert staff["socket"].is_connected()
    assert "customers-changed" in unit_events(app, staff["unit"], staff["socket"])
    staff["socket"].disconnect()


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs Debian's redis-server")
def test_the_recheck_reaches_the_other_processes_through_redis():
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        url = f"redis://127.0.0.1:{port}/0"
        assert eventually(lambda: _answers(url), timeout=10)
        here, there = LiveMessageQueue(url, "recheck-test"), LiveMessageQueue(url, "recheck-test")
        heard_here, heard_there = [], []
        here.on_recheck = lambda room, namespace: heard_here.append((room, namespace))
        there.on_recheck = lambda room, namespace: heard_there.append((room, namespace))
        passed_on = []
        listening = [_listen_in_thread(here, passed_on), _listen_in_thread(there, passed_on)]
        assert eventually(lambda: redis.Redis.from_url(url).pubsub_numsub("recheck-test")[0][1] == 2, timeout=10)
        here.recheck("user:7")
        assert eventually(lambda: heard_there, timeout=10) == [("user:7", "/")]
        assert heard_here == [], "the process that asked checks its own sockets itself"
        assert passed_on == [], "python-socketio never sees the site's own message"
        del listening
    finally:
        server.terminate()
        server.wait(10)


def _answers(url):
    try:
        return redis.Redis.from_url(url).ping()
    except redis.ConnectionError:
        return False


def _listen_in_thread(queue, passed_on):
    def run():
        for data in queue._listen():
            passed_on.append(data)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread
