"""Internal notes on a customer chat: any agent who may read the chat adds one, it shows in the
desk's history with its author and time, and the customer never sees it (not on their page, not
over their socket, not in the transcript mail); it follows the chat's retention."""
import re
from datetime import datetime, timedelta

from sqlalchemy import select

from blueprints.chat import retention
from blueprints.chat.models import ChatMessage, ChatQueue, Conversation, ConversationState, Sender
from common.audit import AuditEvent
from extensions import db, socketio
from tests.chat.conftest import conversation_of, customer_socket, join, log_in_to_service
from tests.chat.test_transcript_and_queue_settings import delivered, send
from tests.conftest import logged_in, needs_local_socketio

NOTE = "Asiakas soitti eilen samasta asiasta, ks. tiketti 4411."


def served(app, client, desk):
    """Toni joins with a question and Aino serves him: (conversation id, Aino's browser, Erja's)."""
    join(client, desk, question="Miten uusin lainat?")
    c = conversation_of(app)
    aino, erja = logged_in(app, "aino"), logged_in(app, "erja")
    log_in_to_service(aino, desk["queue"], "Aino")
    assert aino.post(f"/chat/conversations/{c.id}/claim").status_code == 200
    return c.id, aino, erja


def note_lines(app, conversation_id):
    with app.app_context():
        return db.session.scalars(select(ChatMessage).where(ChatMessage.conversation_id == conversation_id,
                                                            ChatMessage.sender == Sender.NOTE)).all()


def test_a_colleague_reading_the_chat_adds_a_note_shown_on_the_desk_with_author_and_time(app, client, desk):
    conversation_id, aino, erja = served(app, client, desk)

    answer = erja.post(f"/chat/conversations/{conversation_id}/notes", data={"note": NOTE})

    assert answer.status_code == 200 and "The note has been added." in answer.get_data(as_text=True)
    [note] = note_lines(app, conversation_id)
    assert note.author_name == "Erja" and note.body == NOTE
    for reader in (aino, erja):  # the serving agent and the colleague both read it in the history
        html = reader.get(f"/chat/partials/chat?conversation={conversation_id}").get_data(as_text=True)
        line = re.search(r'<li class="chat-line chat-line-note".*?</li>', html, re.S).group(0)
        assert "Internal note" in line and "Erja" in line and NOTE in line and 'class="chat-time"' in line
    # The serving agent's own note too; the note form is on the desk of both.
    own = aino.post(f"/chat/conversations/{conversation_id}/notes", data={"note": "Soitan takaisin."})
    assert own.status_code == 200
    assert len(note_lines(app, conversation_id)) == 2
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "chat.note_added")) is not None


def test_the_customer_never_sees_a_note_on_the_page_or_in_the_lines(app, client, desk):
    conversation_id, aino, erja = served(app, client, desk)
    aino.post(f"/chat/conversations/{conversation_id}/messages", data={"body": "Hei Toni!"})
    erja.post(f"/chat/conversations/{conversation_id}/notes", data={"note": NOTE})
    aino.post(f"/chat/conversations/{conversation_id}/messages", data={"body": "Katsotaan."})

    for page in (client.get("/chat/customer/"), client.get("/chat/customer/conversation"),
                 client.get("/chat/customer/lines"), client.get("/chat/customer/lines?after=1")):
        html = page.get_data(as_text=True)
        assert NOTE not in html and "Internal note" not in html and "Erja" not in html
    lines = client.get("/chat/customer/lines").get_data(as_text=True)
    assert "Hei Toni!" in lines and "Katsotaan." in lines


@needs_local_socketio
def test_a_note_is_told_to_the_desks_showing_the_chat_and_never_to_the_customers_socket(app, client, desk):
    conversation_id, aino, erja = served(app, client, desk)
    customer = customer_socket(app, client)
    watcher = socketio.test_client(app, flask_test_client=erja)
    assert watcher.emit("chat-watch", conversation_id, callback=True)["ok"]
    watcher.get_received()

    erja.post(f"/chat/conversations/{conversation_id}/notes", data={"note": NOTE})

    heard = [e["args"][0] for e in watcher.get_received() if e["name"] == "live"]
    [line] = [e for e in heard if e["event"] == "chat-message"]
    assert NOTE in line["data"]["html"]["en"]
    assert not [e for e in customer.get_received("/customer") if e["name"] == "live"]
    # The customer's next line follows the last line the customer reads, not the note.
    aino.post(f"/chat/conversations/{conversation_id}/messages", data={"body": "Hei!"})
    [pushed] = [e["args"][0]["data"] for e in customer.get_received("/customer")
                if e["name"] == "live" and e["args"][0]["event"] == "customer-line"]
    with app.app_context():
        before_note = db.session.scalar(select(ChatMessage.id).where(
            ChatMessage.conversation_id == conversation_id, ChatMessage.sender != Sender.NOTE,
            ChatMessage.body != "Hei!").order_by(ChatMessage.id.desc()).limit(1))
    assert pushed["previous"] == before_note and NOTE not in pushed["html"]["en"]
    watcher.disconnect()
    customer.disconnect("/customer")


def test_the_transcript_mail_leaves_the_notes_out(app, client, desk, smtp_server):
    conversation_id, aino, erja = served(app, client, desk)
    aino.post(f"/chat/conversations/{conversation_id}/messages", data={"body": "Hei Toni, näin uusit."})
    erja.post(f"/chat/conversations/{conversation_id}/notes", data={"note": NOTE})

    assert send(aino, conversation_id).status_code == 200

    body = smtp_server.wait_for(1)[0].get_content()
    assert delivered(app)
    assert "Hei Toni, näin uusit." in body and "Miten uusin lainat?" in body
    assert NOTE not in body and "Erja" not in body and "Internal note" not in body


def test_only_agents_who_may_read_the_chat_add_notes_and_an_empty_one_is_refused(app, client, desk):
    conversation_id, aino, erja = served(app, client, desk)
    olli = logged_in(app, "olli")  # an agent of another library

    assert olli.post(f"/chat/conversations/{conversation_id}/notes", data={"note": NOTE}).status_code == 404
    empty = erja.post(f"/chat/conversations/{conversation_id}/notes", data={"note": "  "})
    assert empty.status_code == 422 and "Write a message first." in empty.get_data(as_text=True)
    too_long = erja.post(f"/chat/conversations/{conversation_id}/notes", data={"note": "x" * 2001})
    assert too_long.status_code == 422 and "x" * 2001 in too_long.get_data(as_text=True)  # kept as typed
    assert note_lines(app, conversation_id) == []
    # An ended chat still takes notes (the agent may read it) until its transcript is purged.
    aino.post(f"/chat/conversations/{conversation_id}/end")
    assert erja.post(f"/chat/conversations/{conversation_id}/notes", data={"note": NOTE}).status_code == 200
    with app.app_context():
        db.session.get(Conversation, conversation_id).purged_at = datetime(2026, 1, 1)
        db.session.commit()
    assert erja.post(f"/chat/conversations/{conversation_id}/notes", data={"note": NOTE}).status_code == 409
    assert len(note_lines(app, conversation_id)) == 1


def test_notes_follow_the_chats_retention_purge_and_anonymisation(app_context, make_unit):
    now = datetime(2026, 3, 10, 12, 0)
    queue = ChatQueue(unit_id=make_unit(), name="Neuvonta", is_open=True, keep_days=30, anonymise_after_days=7)
    db.session.add(queue)

    def chat(name, ended_at):
        c = Conversation(queue=queue, token=name, customer_name=name, state=ConversationState.ENDED,
                         joined_at=ended_at - timedelta(minutes=5), ended_at=ended_at)
        c.messages = [ChatMessage(sender=Sender.CUSTOMER, author_name=name, body="Hei"),
                      ChatMessage(sender=Sender.NOTE, author_name="Erja", body=f"{name} soitti eilen.")]
        db.session.add(c)
        db.session.commit()
        return c.id

    anonymised = chat("Toni", now - timedelta(days=8))
    purged = chat("Pia", now - timedelta(days=31))

    retention.purge_queue(queue, now)

    db.session.expire_all()
    [_, note] = db.session.get(Conversation, anonymised).messages
    assert note.sender == Sender.NOTE and note.body == "*** soitti eilen." and note.author_name == "Erja"
    assert db.session.get(Conversation, purged).messages == []
