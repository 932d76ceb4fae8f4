"""The transcript mailed to a customer at their request, and the queue's privacy settings."""
from datetime import datetime

from sqlalchemy import select

from blueprints.chat.models import ChatMessage, ChatQueue, Conversation
from common.access import Role
from common.audit import AuditEvent
from common.mail import OutboxMail
from extensions import db
from tests.conftest import eventually, logged_in


def served_chat(app, client, desk, agent):
    """Toni joins with a question, `agent` starts the chat and answers; returns the id."""
    client.post("/chat/customer/", data={"queue": desk["queue"], "name": "Toni", "question": "Miten uusin <lainat>?"})
    with app.app_context():
        conversation_id = db.session.scalar(select(Conversation.id).where(Conversation.customer_name == "Toni"))
    agent.post("/chat/service/login", data={"queues": [desk["queue"]], "display_name": ""})
    agent.post(f"/chat/conversations/{conversation_id}/claim")
    agent.post(f"/chat/conversations/{conversation_id}/messages", data={"body": "Hei Toni, näin uusit."})
    with app.app_context():
        # Known times, to see them in local time (Helsinki, UTC+2 in January) in the mail.
        for message in db.session.scalars(select(ChatMessage).where(ChatMessage.conversation_id == conversation_id)):
            message.sent_at = datetime(2026, 1, 15, 10, 5)
        db.session.commit()
    return conversation_id


def delivered(app):
    """The outbox has marked the mail sent (so no delivery thread outlives the test)."""
    def check():
        with app.app_context():
            return db.session.scalar(select(OutboxMail.status)) == "sent"
    return eventually(check)


def send(agent, conversation_id, email="toni@example.org", language="en"):
    return agent.post(f"/chat/conversations/{conversation_id}/transcript",
                      data={"transcript-email": email, "transcript-language": language})


def test_the_serving_agent_emails_the_transcript_through_the_outbox(app, client, desk, smtp_server):
    aino = logged_in(app, "aino")
    conversation_id = served_chat(app, client, desk, aino)

    response = send(aino, conversation_id)

    assert response.status_code == 200
    assert "A transcript of this chat has been sent by email." in response.get_data(as_text=True)
    mail = smtp_server.wait_for(1)[0]
    assert delivered(app)
    assert mail["To"] == "toni@example.org"
    assert mail["Subject"] == "Your chat with the library: Neuvonta"
    body = mail.get_content()
    assert "Transcript of your chat with the library" in body
    assert "Toni: Miten uusin <lainat>?" in body  # plain text: nothing escaped
    assert "Aino: Hei Toni, näin uusit." in body
    assert "12:05" in body and "10:05" not in body  # local time, not UTC
    assert "Aino has started the chat." in body  # system lines translated, naming the agent as Toni saw her
    # The chat says so, and the audit log has who sent it where.
    page = client.get("/chat/customer/conversation").get_data(as_text=True)
    assert "A transcript of this chat has been sent by email." in page
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "chat.transcript_sent"))
        assert event.actor_id == desk["aino"] and event.detail == {"recipient": "toni@example.org"}
        assert event.object_id == str(conversation_id)


def test_the_transcript_speaks_the_chosen_language(app, client, desk, smtp_server):
    aino = logged_in(app, "aino")
    conversation_id = served_chat(app, client, desk, aino)

    send(aino, conversation_id, language="fi")

    mail = smtp_server.wait_for(1)[0]
    assert delivered(app)
    assert mail["Subject"] == "Keskustelusi kirjaston kanssa: Neuvonta"
    assert "Aino aloitti keskustelun." in mail.get_content()


def test_a_bad_address_is_refused_at_the_field_and_nothing_is_sent(app, client, desk):
    aino = logged_in(app, "aino")
    conversation_id = served_chat(app, client, desk, aino)

    response = send(aino, conversation_id, email="toni@")

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="transcript-email-error"' in html and "Enter an email address like name@example.fi." in html
    assert 'value="toni@"' in html
    assert f'<details id="chat-transcript-{conversation_id}" class="chat-transcript" open>' in html
    assert "hx-preserve" not in html.split("chat-transcript-")[1].split(">")[0]  # the answer replaces the form
    with app.app_context():
        assert db.session.scalar(select(OutboxMail.id)) is None
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "chat.transcript_sent")) is None


def test_the_agent_who_served_may_still_send_after_the_chat_ended_but_a_reader_never(app, client, desk):
    aino, erja = logged_in(app, "aino"), logged_in(app, "erja")
    conversation_id = served_chat(app, client, desk, aino)
    chat = f"/chat/partials/chat?conversation={conversation_id}"
    assert 'id="transcript-email"' not in erja.get(chat).get_data(as_text=True)
    assert send(erja, conversation_id).status_code == 403

    aino.post(f"/chat/conversations/{conversation_id}/end")
    assert 'id="transcript-email"' in aino.get(chat).get_data(as_text=True)
    assert send(aino, conversation_id).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(OutboxMail.recipient)) == "toni@example.org"


def test_a_purged_transcript_cannot_be_sent(app, client, desk):
    aino = logged_in(app, "aino")
    conversation_id = served_chat(app, client, desk, aino)
    aino.post(f"/chat/conversations/{conversation_id}/end")
    with app.app_context():
        db.session.get(Conversation, conversation_id).purged_at = datetime(2026, 1, 16)
        db.session.commit()

    response = send(aino, conversation_id)

    assert response.status_code == 409
    assert "The transcript of this chat is no longer kept." in response.get_data(as_text=True)


# ---- the queue's privacy settings ------------------------------------------------------------------

def queue_form(desk, **values):
    data = {"name": "Neuvonta", "unit": desk["library"], "is_open": "y", "waiting_message": "Odota"}
    data.update(values)
    return data


def test_the_admin_sets_retention_and_a_contact_address(app, make_user, desk):
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    admin = logged_in(app, "sirpa")
    form = admin.get(f"/chat/admin/queues/{desk['queue']}").get_data(as_text=True)
    assert 'name="keep_days"' in form and 'value="0"' in form  # the library's default: not kept

    response = admin.post(f"/chat/admin/queues/{desk['queue']}",
                          data=queue_form(desk, keep_days="30", anonymise_after_days="7",
                                          contact_email="neuvonta@example.org"))

    assert response.status_code == 302
    with app.app_context():
        queue = db.session.get(ChatQueue, desk["queue"])
        assert (queue.keep_days, queue.anonymise_after_days, queue.contact_email) == (30, 7, "neuvonta@example.org")
    assert "kept 30 days, names removed after 7 days" in admin.get("/chat/admin/queues").get_data(as_text=True)


def test_bad_retention_values_are_refused_at_their_fields_and_nothing_is_stored(app, make_user, desk):
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    admin = logged_in(app, "sirpa")
    cases = [
        ({"keep_days": "7", "anonymise_after_days": "8"}, "anonymise_after_days",
         "At most the days transcripts are kept (7)."),
        ({"keep_days": "-1"}, "keep_days", "Give a whole number of days from 0 to 3650."),
        ({"keep_days": "3651"}, "keep_days", "Give a whole number of days from 0 to 3650."),
        ({"keep_days": "10", "anonymise_after_days": "-2"}, "anonymise_after_days",
         "Give a whole number of days from 0 to 3650."),
        ({"contact_email": "neuvonta"}, "contact_email", "Enter an email address like name@example.fi."),
    ]
    for values, field, message in cases:
        response = admin.post(f"/chat/admin/queues/{desk['queue']}", data=queue_form(desk, name="Changed", **values))
        html = response.get_data(as_text=True)
        assert response.status_code == 422, values
        assert f'id="{field}-error"' in html and message in html, values
        assert 'value="Changed"' in html  # the values are kept
    with app.app_context():
        queue = db.session.get(ChatQueue, desk["queue"])
        kept = (queue.name, queue.keep_days, queue.anonymise_after_days, queue.contact_email)
        assert kept == ("Neuvonta", 0, None, None)
