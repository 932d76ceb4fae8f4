"""The guide's saves as write transactions: a refusal answered on the page that was sent, with
its status and the person's values; a change made meanwhile by someone else met under the
lock (409); a database that gives no turn in time answered "save again" (503)."""

import pytest
from sqlalchemy import func, select, update

from blueprints.accounts import service as accounts
from blueprints.accounts.models import UnitKind
from blueprints.guide import service
from blueprints.guide.models import ChecklistVersion, GuidanceSession, ItemGroup, Outcome
from common.access import Role
from common.clock import utcnow
from extensions import db
from tests.conftest import PASSWORD, Auth, english_client, while_locked


@pytest.fixture
def admin(client, auth, make_user, version):
    make_user("boss", (Role.SERVICE_ADMIN, None))
    auth.login("boss")


def _current(app):
    with app.app_context():
        version = service.current_version()
        return version.number, {group: [i.id for i in version.group(group)] for group in ItemGroup}


def test_an_item_that_cannot_move_further_is_answered_409_on_the_checklist_page(app, client, admin):
    number, items = _current(app)
    answer = client.post(f"/guide/admin/checklist/items/{items[ItemGroup.ALWAYS][0]}/move", data={"direction": "up"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "The item cannot move further." in page and 'role="alert"' in page
    assert "Edit the guide checklist" in page and f"Current version: {number}." in page
    assert _current(app)[0] == number


def test_retiring_an_item_of_an_older_version_is_409_and_the_current_one_is_shown(app, client, admin):
    _number, items = _current(app)
    assert client.post(f"/guide/admin/checklist/items/{items[ItemGroup.NEVER][0]}/retire").status_code == 303
    answer = client.post(f"/guide/admin/checklist/items/{items[ItemGroup.NEVER][1]}/retire")  # an item of version 1
    assert answer.status_code == 409
    assert "Only items of the current version can be edited." in answer.get_data(as_text=True)
    assert "Current version: 2." in answer.get_data(as_text=True)
    assert _current(app)[0] == 2


def test_a_session_a_colleague_ended_meanwhile_is_not_ended_again(app, client, start, monkeypatch):
    """The end is checked under the write lock: a session that was in progress when the request
    read it, and ended before its save, is answered 409 on the end form, the values kept."""
    sid = start()
    real_get_session = service.get_session

    def and_meanwhile_a_colleague_ends_it(user, session_id, role=Role.GUIDE):
        session = real_get_session(user, session_id, role)
        assert session.in_progress
        with db.engine.begin() as other:
            other.execute(update(GuidanceSession).where(GuidanceSession.id == session_id).values(
                ended_at=utcnow(), outcome=Outcome.SOLVED, duration_minutes=3, note="First"))
        return session

    monkeypatch.setattr(service, "get_session", and_meanwhile_a_colleague_ends_it)
    answer = client.post(f"/guide/sessions/{sid}/end",
                         data={"outcome": "partly_solved", "duration_minutes": "25", "note": "Second end"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "The session has already ended." in page
    assert "Second end" in page and 'value="25"' in page
    with app.app_context():
        stored = db.session.get(GuidanceSession, sid)
        assert (stored.outcome, stored.duration_minutes, stored.note) == (Outcome.SOLVED, 3, "First")


# --- a database that gives no turn in time ----------------------------------------------------


@pytest.fixture
def locked_guide_app(busy_sqlite):
    """An app on its own SQLite file whose writes wait only a moment for the lock, a guide and a
    service admin logged in, a session in progress, and a connection of someone else that can
    hold the lock."""
    app, other_writer = busy_sqlite
    with app.app_context():
        unit = accounts.create_unit("LIB", "Library", UnitKind.LIBRARY, None)
        guide = accounts.create_user("opas", "Opas", "opas@example.org", "en", PASSWORD, [(Role.GUIDE, unit)])
        accounts.create_user("boss", "Boss", "boss@example.org", "en", PASSWORD, [(Role.SERVICE_ADMIN, None)])
        session = service.start_session(guide, unit.id, ["email"], "phone", "fi")
        ids = {"unit": unit.id, "session": session.id, "item": session.version.group(ItemGroup.ALWAYS)[0].id}
    return app, english_client(app), ids, other_writer


def assert_save_again(answer):
    page = answer.get_data(as_text=True)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "1"
    assert "nothing was saved" in page and "save again" in page
    return page


def test_a_start_that_cannot_get_the_lock_keeps_the_form_and_says_save_again(locked_guide_app):
    app, client, ids, other_writer = locked_guide_app
    Auth(client).login("opas")
    answer = while_locked(other_writer, lambda: client.post("/guide/", data={
        "unit": ids["unit"], "topics": ["banking", "email"], "device": "tablet", "customer_language": "sv"}))
    page = assert_save_again(answer)
    assert '<option selected value="tablet">' in page and '<input checked id="topics-3"' in page  # banking
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(GuidanceSession)) == 1


def test_a_tick_that_cannot_get_the_lock_answers_the_checklist_with_save_again(locked_guide_app):
    app, client, ids, other_writer = locked_guide_app
    Auth(client).login("opas")
    answer = while_locked(other_writer, lambda: client.post(
        f"/guide/sessions/{ids['session']}/items/{ids['item']}", data={"ticked": "1"}))
    page = assert_save_again(answer)
    assert "<html" not in page and 'id="never-1-exception"' in page  # the partial that was sent
    with app.app_context():
        assert db.session.get(GuidanceSession, ids["session"]).ticked_item_ids == set()


def test_an_end_that_cannot_get_the_lock_keeps_the_form_and_says_save_again(locked_guide_app):
    app, client, ids, other_writer = locked_guide_app
    Auth(client).login("opas")
    answer = while_locked(other_writer, lambda: client.post(
        f"/guide/sessions/{ids['session']}/end", data={"outcome": "solved", "duration_minutes": "42", "note": "Kept"}))
    page = assert_save_again(answer)
    assert 'value="42"' in page and "Kept</textarea>" in page
    with app.app_context():
        assert db.session.get(GuidanceSession, ids["session"]).in_progress


def test_an_item_save_that_cannot_get_the_lock_keeps_the_texts_and_says_save_again(locked_guide_app):
    app, client, _ids, other_writer = locked_guide_app
    Auth(client).login("boss")
    texts = {f"text_{lang}": f"Patient {lang}" for lang in ("fi", "sv", "en", "nl")}
    answer = while_locked(other_writer,
                          lambda: client.post("/guide/admin/checklist/items/new", data={"group": "always", **texts}))
    page = assert_save_again(answer)
    assert "Patient nl</textarea>" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ChecklistVersion)) == 1


def test_a_first_version_stored_at_the_same_moment_by_another_request_is_the_one_answered(app_context, monkeypatch):
    """PostgreSQL takes no lock for the first version's check: the unique number of the other
    request's copy, met in a savepoint, answers with that copy instead of a conflict."""
    stored = service.ensure_first_version()
    real_current_version = service.current_version
    calls = []

    def not_seen_before_the_insert():
        calls.append(1)
        return None if len(calls) <= 2 else real_current_version()

    monkeypatch.setattr(service, "current_version", not_seen_before_the_insert)
    assert service.ensure_first_version().id == stored.id
    assert db.session.scalar(select(func.count()).select_from(ChecklistVersion)) == 1
