"""Each write of the customer chats is one write transaction (common/transactions.py): starting a
video call for a waiting customer claims and invites them in one commit, and a save that gets no
turn in time (a busy database) is answered on the part of the page that was sent, with what was
typed kept and "save again". The desk's requests take the lines it showed as read, whichever
route they reach."""
from functools import partial

import pytest
from sqlalchemy import event, func, select

from blueprints.accounts import service as accounts
from blueprints.accounts.models import UnitKind, User
from blueprints.chat import live as chat_live
from blueprints.chat import service, video
from blueprints.chat.models import ChatMessage, ChatQueue, Conversation, ConversationState
from common.access import Role
from common.refusals import Refused
from extensions import db
from tests.chat.conftest import log_in_to_service, on_duty
from tests.conftest import PASSWORD, english_client, logged_in, while_locked


def test_a_video_call_for_a_waiting_customer_claims_and_invites_in_one_commit(app, desk, in_request, monkeypatch):
    on_duty(desk, "aino")
    queue = db.session.get(ChatQueue, desk["queue"])
    toni, sara = service.join(queue, "Toni"), service.join(queue, "Sara")
    aino = db.session.get(User, desk["aino"])
    db.session.rollback()  # the reads before are done with: what follows counts only the call's commits
    commits = []
    listener = lambda session: commits.append(session)  # noqa: E731
    event.listen(db.session(), "after_commit", listener)
    try:
        video.start(toni, aino)
    finally:
        event.remove(db.session(), "after_commit", listener)
    assert len(commits) == 1
    assert db.session.get(Conversation, toni.id).state == ConversationState.SERVED

    def refused(*args, **kwargs):
        raise Refused("No call now.")

    # A call that cannot start leaves the customer waiting: the claim before it is not kept either.
    monkeypatch.setattr(chat_live, "announce_video_signal", refused)
    with pytest.raises(Refused):
        video.start(sara, aino)
    assert db.session.get(Conversation, sara.id).state == ConversationState.WAITING


@pytest.mark.parametrize("path",
                         ["/chat/?conversation={c}", "/chat/partials/queues", "/chat/partials/customers?queue={q}",
                                  "/chat/partials/chat?conversation={c}", "/chat/partials/active",
                                  "/chat/partials/colleagues?colleagues=1", "/chat/conversations/{c}/transfer"])
def test_every_route_the_desk_asks_takes_the_lines_it_showed_as_read(app, desk, path):
    """The desk's page sends X-Chat-Shown with whichever request comes next, and forgets it once
    that request succeeded: each route it reaches marks the lines first."""
    customer, aino = app.test_client(), logged_in(app, "aino")
    customer.post("/chat/customer/", data={"queue": desk["queue"], "name": "Toni"})
    log_in_to_service(aino, desk["queue"], "Aino")
    with app.app_context():
        toni = db.session.scalar(select(Conversation.id).where(Conversation.customer_name == "Toni"))
    assert aino.post(f"/chat/conversations/{toni}/claim").status_code == 200
    customer.post("/chat/customer/message", data={"body": "Hei"})
    with app.app_context():
        line = db.session.scalar(select(func.max(ChatMessage.id)).where(ChatMessage.conversation_id == toni))
        assert db.session.get(Conversation, toni).unread_by_agent

    answer = aino.get(path.format(c=toni, q=desk["queue"]), headers={"X-Chat-Shown": f"{toni}:{line}"})
    assert answer.status_code == 200
    with app.app_context():
        assert not db.session.get(Conversation, toni).unread_by_agent


# ---- a busy database -----------------------------------------------------------------------------

@pytest.fixture
def busy_chat(busy_sqlite):
    """A chat desk on its own SQLite file whose writes wait only a moment for the lock, a customer
    served by Aino and one waiting, and locked(request): request()'s answer, sent while someone
    else holds the lock."""
    app, other_writer = busy_sqlite
    with app.app_context():
        library = accounts.create_unit("LIB", "Library", UnitKind.LIBRARY, None)
        accounts.create_user("aino", "Aino", "aino@example.org", "en", PASSWORD, [(Role.CHAT_AGENT, library)])
        queue = ChatQueue(unit_id=library.id, name="Neuvonta", is_open=True)
        db.session.add(queue)
        db.session.commit()
        queue_id = queue.id
    browsers = {"aino": logged_in(app, "aino"), "toni": english_client(app), "sara": english_client(app)}
    log_in_to_service(browsers["aino"], queue_id, "Aino")
    for name in ("toni", "sara"):
        browsers[name].post("/chat/customer/", data={"queue": queue_id, "name": name.title()})
    with app.app_context():
        ids = dict(db.session.execute(select(Conversation.customer_name, Conversation.id)).all())
    assert browsers["aino"].post(f"/chat/conversations/{ids['Toni']}/claim").status_code == 200
    return app, queue_id, browsers, ids, partial(while_locked, other_writer)


def says_save_again(answer):
    page = answer.get_data(as_text=True)
    return answer.status_code == 503 and "nothing was saved" in page and "save again" in page


def test_a_join_that_cannot_get_the_lock_keeps_the_form(busy_chat):
    app, queue_id, browsers, _ids, locked = busy_chat
    customer = english_client(app)
    answer = locked(lambda: customer.post("/chat/customer/", data={"queue": queue_id, "name": "Kärsivällinen",
                                                                    "question": "Milloin olette auki?"}))
    assert says_save_again(answer)
    page = answer.get_data(as_text=True)
    assert 'value="Kärsivällinen"' in page and "Milloin olette auki?" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Conversation)) == 2


def test_a_customer_line_that_cannot_get_the_lock_is_kept_in_the_box(busy_chat):
    app, _queue_id, browsers, ids, locked = busy_chat
    answer = locked(lambda: browsers["toni"].post("/chat/customer/message", data={"body": "Odotan vielä", "key": "k1"}))
    assert says_save_again(answer)
    assert ">Odotan vielä</textarea>" in answer.get_data(as_text=True)
    # The page's script sends it again with the same key: stored once.
    for _ in range(2):
        assert browsers["toni"].post("/chat/customer/message", data={"body": "Odotan vielä", "key": "k1"},
                                     headers={"HX-Request": "true"}).status_code == 204
    with app.app_context():
        kept = select(ChatMessage.body).where(ChatMessage.conversation_id == ids["Toni"],
                                              ChatMessage.body == "Odotan vielä")
        assert db.session.scalars(kept).all() == ["Odotan vielä"]


def test_a_claim_that_cannot_get_the_lock_answers_with_the_chat_as_it_stands(busy_chat):
    app, _queue_id, browsers, ids, locked = busy_chat
    answer = locked(lambda: browsers["aino"].post(f"/chat/conversations/{ids['Sara']}/claim"))
    assert says_save_again(answer)
    assert f'data-conversation="{ids["Sara"]}"' in answer.get_data(as_text=True)  # the chat column, not an error page
    assert answer.headers["Retry-After"] == "1"
    with app.app_context():
        assert db.session.get(Conversation, ids["Sara"]).state == ConversationState.WAITING


def test_a_transcript_that_cannot_get_the_lock_keeps_the_address_in_the_open_form(busy_chat):
    app, _queue_id, browsers, ids, locked = busy_chat
    answer = locked(lambda: browsers["aino"].post(f"/chat/conversations/{ids['Toni']}/transcript",
                                                  data={"transcript-email": "toni@example.org",
                                                        "transcript-language": "en"}))
    assert says_save_again(answer)
    page = answer.get_data(as_text=True)
    assert 'value="toni@example.org"' in page
    assert f'<details id="chat-transcript-{ids["Toni"]}" class="chat-transcript" open>' in page


def test_a_join_reads_its_queue_once_under_the_lock_and_asks_nothing_of_a_new_chat(app, desk, in_request):
    """The join's write transaction begins by expiring what was read before it: the locking read
    loads the queue again (not a second read before the lock), and the new chat's row is rendered
    without asking the database for the transfers a new chat cannot have."""
    queue = db.session.get(ChatQueue, desk["queue"])
    service.join(queue, "Sara")
    statements = []
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        service.join(queue, "Toni")
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    queue_reads = [s for s in statements if s.lstrip().startswith("SELECT") and "FROM chat_queue " in s + " "]
    assert len(queue_reads) == 1
    assert not [s for s in statements if "chat_queue_transfer" in s]
