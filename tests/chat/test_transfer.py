"""Queue transfer: the serving agent moves a customer, with the whole chat, to another queue."""
import pytest
from sqlalchemy import select

from blueprints.chat import queues, service
from blueprints.chat.models import (
    ChatQueue,
    Conversation,
    ConversationState,
    QueueTransfer,
    Sender,
)
from common.access import Role
from common.audit import AuditEvent
from common.refusals import NotAllowed, Refused
from extensions import db, socketio
from tests.chat.conftest import queue, user
from tests.conftest import logged_in, needs_local_socketio


@pytest.fixture
def specialist(app, desk):
    """A closed specialist queue of the same library, opened only when a specialist logs in to it."""
    with app.app_context():
        closed = ChatQueue(unit_id=desk["library"], name="Asiantuntija", is_open=False,
                           waiting_message="Asiantuntija tulee pian.")
        db.session.add(closed)
        db.session.commit()
        return closed.id


def served_customer(desk, name="Toni"):
    """A customer of the open queue, served by Aino, after a few lines both ways."""
    if service.agent_session(user(desk["aino"])) is None:
        queues.log_in_to_service(user(desk["aino"]), [desk["queue"]], "Aino")
    conversation = service.join(queue(desk["queue"]), name, "Miten uusin lainat?")
    service.claim(conversation.id, user(desk["aino"]))
    service.send_as_agent(conversation, user(desk["aino"]), "Hetki, kysyn asiantuntijalta.")
    service.send_as_customer(conversation, "Kiitos")
    return conversation


def test_transfer_moves_the_same_conversation_with_its_history_to_a_closed_queue(in_request, desk, specialist):
    conversation = served_customer(desk)
    served_at = conversation.served_at
    history = [m.body for m in conversation.messages]

    record = service.transfer(conversation, specialist, "  Kysyy e-kirjojen lainausajasta.  ", user(desk["aino"]))

    db.session.expire_all()
    moved = db.session.get(Conversation, conversation.id)
    assert moved.queue_id == specialist and moved.state == ConversationState.WAITING
    assert moved.agent_id is None and moved.agent_name is None and moved.served_at is None
    assert [m.body for m in moved.messages] == history + ["transferred"]
    assert moved.messages[-1].sender == Sender.SYSTEM
    assert [q.name for q in moved.queue_chain] == ["Neuvonta", "Asiantuntija"]
    assert service.customers_of(specialist) == [moved] and service.customers_of(desk["queue"]) == []
    row = db.session.get(QueueTransfer, record.id)
    assert (row.conversation_id, row.from_queue_id, row.to_queue_id) == (conversation.id, desk["queue"], specialist)
    assert row.note == "Kysyy e-kirjojen lainausajasta."
    assert row.transferred_by_id == desk["aino"] and row.served_at == served_at and row.transferred_at >= served_at
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "chat.transferred")).one()
    assert audit.object_id == str(conversation.id) and audit.actor_id == desk["aino"]
    assert audit.detail["from_queue"] == desk["queue"] and audit.detail["to_queue"] == specialist


def test_a_customer_in_a_closed_queue_is_served_by_an_agent_logged_in_to_it(in_request, desk, specialist):
    conversation = served_customer(desk)
    service.transfer(conversation, specialist, "", user(desk["aino"]))
    # Customers cannot join the closed queue themselves; agents can log in to it.
    with pytest.raises(Refused):
        service.join(queue(specialist), "Sara")
    queues.log_in_to_service(user(desk["erja"]), [specialist], "Erja E.")
    service.claim(conversation.id, user(desk["erja"]))
    assert conversation.state == ConversationState.SERVED and conversation.agent_name == "Erja E."
    said = [m.body for m in conversation.messages if m.sender != Sender.SYSTEM]
    assert said == ["Miten uusin lainat?", "Hetki, kysyn asiantuntijalta.", "Kiitos"]
    assert [m.body for m in conversation.messages if m.sender == Sender.SYSTEM] == ["served", "transferred", "served"]
    service.send_as_agent(conversation, user(desk["erja"]), "Olen asiantuntija.")
    assert conversation.messages[-1].author_name == "Erja E."


def test_only_the_serving_agent_transfers_and_a_refusal_stores_nothing(in_request, desk, specialist):
    conversation = served_customer(desk)
    with pytest.raises(NotAllowed):
        service.transfer(conversation, specialist, "", user(desk["erja"]))  # a colleague who only reads
    with pytest.raises(NotAllowed):
        service.transfer(conversation, specialist, "", user(desk["olli"]))  # another library's agent
    with pytest.raises(Refused, match="already in this queue"):
        service.transfer(conversation, desk["queue"], "", user(desk["aino"]))
    waiting = service.join(queue(desk["queue"]), "Sara")
    with pytest.raises(Refused, match="Only the agent serving this customer"):
        service.transfer(waiting, specialist, "", user(desk["aino"]))
    assert db.session.scalar(select(db.func.count()).select_from(QueueTransfer)) == 0
    assert conversation.queue_id == desk["queue"] and conversation.agent_id == desk["aino"]


def test_a_queue_of_a_unit_the_agent_does_not_serve_is_no_target(in_request, desk):
    elsewhere = ChatQueue(unit_id=desk["other"], name="Muualla", is_open=True)
    db.session.add(elsewhere)
    db.session.commit()
    conversation = served_customer(desk)
    assert elsewhere not in service.transfer_targets(user(desk["aino"]), conversation)
    with pytest.raises(NotAllowed):
        service.transfer(conversation, elsewhere.id, "", user(desk["aino"]))
    assert conversation.state == ConversationState.SERVED


def test_the_transfer_control_lists_other_queues_and_marks_closed_ones(app, desk, specialist):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        conversation_id = served_customer(desk).id
    aino = logged_in(app, "aino")
    html = aino.get(f"/chat/partials/chat?conversation={conversation_id}").get_data(as_text=True)
    assert "Transfer to another queue" in html
    form = aino.get(f"/chat/conversations/{conversation_id}/transfer").get_data(as_text=True)
    assert "Asiantuntija (Unit 1) – closed" in form and "Neuvonta (Unit 1)" not in form
    assert 'name="transfer-note"' in form
    # A reading colleague gets no transfer control and, asking anyway, is refused.
    erja = logged_in(app, "erja")
    html = erja.get(f"/chat/partials/chat?conversation={conversation_id}").get_data(as_text=True)
    assert "Transfer to another queue" not in html
    assert erja.get(f"/chat/conversations/{conversation_id}/transfer").status_code == 403


def test_transfer_over_http_refusals_and_bad_input(app, desk, specialist):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        conversation_id = served_customer(desk).id
    url = f"/chat/conversations/{conversation_id}/transfer"
    erja, olli, aino = logged_in(app, "erja"), logged_in(app, "olli"), logged_in(app, "aino")
    assert erja.post(url, data={"transfer-target": specialist}).status_code == 403
    assert olli.post(url, data={"transfer-target": specialist}).status_code == 404
    missing = aino.post(url, data={"transfer-target": "", "transfer-note": "Kesken jäänyt"})
    assert missing.status_code == 422
    assert "Choose a queue." in missing.get_data(as_text=True) and "Kesken jäänyt" in missing.get_data(as_text=True)
    too_long = aino.post(url, data={"transfer-target": specialist, "transfer-note": "x" * 1001})
    assert too_long.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(QueueTransfer)) == 0
    done = aino.post(url, data={"transfer-target": specialist, "transfer-note": "Kysyy <b>e-kirjoista</b>"})
    assert done.status_code == 200 and done.headers["HX-Retarget"] == "#chat-view"
    html = done.get_data(as_text=True)
    assert "Queues: Neuvonta → Asiantuntija" in html and "Kysyy &lt;b&gt;e-kirjoista&lt;/b&gt;" in html


def test_the_customer_sees_the_notice_and_the_target_agents_see_the_note(app, client, desk, specialist):
    client.post("/chat/customer/", data={"queue": desk["queue"], "name": "Toni", "question": "Hei"})
    with app.app_context():
        conversation_id = db.session.scalar(select(Conversation.id))
    aino = logged_in(app, "aino")
    aino.post("/chat/service/login", data={"queues": [desk["queue"]], "display_name": "Aino"})
    aino.post(f"/chat/conversations/{conversation_id}/claim")
    aino.post(f"/chat/conversations/{conversation_id}/messages", data={"body": "Siirrän sinut."})
    aino.post(f"/chat/conversations/{conversation_id}/transfer",
              data={"transfer-target": specialist, "transfer-note": "Haluaa lainata e-kirjoja."})

    page = client.get("/chat/customer/conversation").get_data(as_text=True)
    assert "Aino has transferred you to another queue." in page
    assert "Asiantuntija tulee pian." in page and "You are next in the queue." in page and "Siirrän sinut." in page

    erja = logged_in(app, "erja")
    erja.post("/chat/service/login", data={"queues": [specialist], "display_name": "Erja"})
    assert f'data-queue-new="{specialist}">New customer!' in erja.get("/chat/partials/queues").get_data(as_text=True)
    listing = erja.get(f"/chat/partials/customers?queue={specialist}").get_data(as_text=True)
    assert "Transferred from Neuvonta." in listing and "Haluaa lainata e-kirjoja." in listing
    erja.post(f"/chat/conversations/{conversation_id}/claim")
    chat = erja.get(f"/chat/partials/chat?conversation={conversation_id}").get_data(as_text=True)
    assert "Haluaa lainata e-kirjoja." in chat and "Siirrän sinut." in chat and "Hei" in chat
    assert "Queues: Neuvonta → Asiantuntija" in chat


def test_the_finnish_customer_reads_the_notice_in_finnish(app, client, desk, specialist):
    client.post("/chat/customer/", data={"queue": desk["queue"], "name": "Toni"})
    with app.test_request_context(headers={"Accept-Language": "en"}):
        conversation = db.session.scalar(select(Conversation))
        queues.log_in_to_service(user(desk["aino"]), [desk["queue"]], "Aino")
        service.claim(conversation.id, user(desk["aino"]))
        service.transfer(conversation, specialist, "", user(desk["aino"]))
    page = client.get("/chat/customer/conversation", headers={"Accept-Language": "fi"}).get_data(as_text=True)
    assert "Aino siirsi sinut toiseen jonoon." in page


def events(socket_client, namespace="/"):
    return [e["args"][0] for e in socket_client.get_received(namespace) if e["name"] == "live"]


@needs_local_socketio
def test_the_target_queue_hears_of_the_new_customer_even_in_another_unit(app, client, desk, make_unit, make_user):
    specialists = make_unit()
    ville_id = make_user("ville", (Role.CHAT_AGENT, desk["library"]), (Role.CHAT_AGENT, specialists))  # serves both
    make_user("saara", (Role.CHAT_AGENT, specialists))
    with app.app_context():
        target = ChatQueue(unit_id=specialists, name="Erikoiskirjasto", is_open=False)
        db.session.add(target)
        db.session.commit()
        target_id = target.id
    client.post("/chat/customer/", data={"queue": desk["queue"], "name": "Toni"})
    with app.app_context():
        conversation_id = db.session.scalar(select(Conversation.id))
    ville = logged_in(app, "ville")
    ville.post("/chat/service/login", data={"queues": [desk["queue"]], "display_name": "Ville"})
    ville.post(f"/chat/conversations/{conversation_id}/claim")
    saara = logged_in(app, "saara")
    saara_socket = socketio.test_client(app, flask_test_client=saara)
    aino_socket = socketio.test_client(app, flask_test_client=logged_in(app, "aino"))
    customer_socket = socketio.test_client(app, namespace="/customer", flask_test_client=client)
    for s in (saara_socket, aino_socket):
        s.get_received()
    customer_socket.get_received("/customer")

    answer = ville.post(f"/chat/conversations/{conversation_id}/transfer", data={"transfer-target": target_id})

    assert answer.status_code == 200
    def told(socket, **data):
        return any(e["event"] == "chat-changed" and data.items() <= e["data"].items() for e in events(socket))

    assert told(saara_socket, queue=target_id, conversation=conversation_id, agent=ville_id, waiting=1, kind="state")
    # The queue left behind re-reads its list too: the customer is gone from it.
    assert told(aino_socket, queue=desk["queue"], conversation=conversation_id, agent=ville_id, waiting=0, kind="state")
    assert any(e["event"] == "customer-changed" for e in events(customer_socket, "/customer"))
    saara_socket.disconnect()
    aino_socket.disconnect()
    customer_socket.disconnect(namespace="/customer")


def test_the_next_agent_reads_every_note_of_the_chain_with_the_names_customers_saw(app, client, desk, specialist,
                                                                                   make_user):
    """Neuvonta → Asiantuntija → Neuvonta: Erja, who picks Toni up last, reads both notes, and each
    transfer names the agent as Toni saw them (their customer-service name), as do the system lines."""
    client.post("/chat/customer/", data={"queue": desk["queue"], "name": "Toni"})
    with app.app_context():
        conversation_id = db.session.scalar(select(Conversation.id))
    make_user("ville", (Role.CHAT_AGENT, desk["library"]))
    aino, ville, erja = logged_in(app, "aino"), logged_in(app, "ville"), logged_in(app, "erja")
    aino.post("/chat/service/login", data={"queues": [desk["queue"]], "display_name": "Aino N."})
    ville.post("/chat/service/login", data={"queues": [specialist], "display_name": "Asiantuntija Ville"})
    erja.post("/chat/service/login", data={"queues": [desk["queue"]], "display_name": "Erja"})
    aino.post(f"/chat/conversations/{conversation_id}/claim")
    aino.post(f"/chat/conversations/{conversation_id}/transfer",
              data={"transfer-target": specialist, "transfer-note": "Kysyy e-kirjoista."})
    ville.post(f"/chat/conversations/{conversation_id}/claim")
    ville.post(f"/chat/conversations/{conversation_id}/transfer",
               data={"transfer-target": desk["queue"], "transfer-note": "Tarvitsee myös kirjastokortin."})

    listing = erja.get(f"/chat/partials/customers?queue={desk['queue']}").get_data(as_text=True)
    assert "Kysyy e-kirjoista." in listing and "Tarvitsee myös kirjastokortin." in listing
    erja.post(f"/chat/conversations/{conversation_id}/claim")
    chat = erja.get(f"/chat/partials/chat?conversation={conversation_id}").get_data(as_text=True)
    assert "Queues: Neuvonta → Asiantuntija → Neuvonta" in chat
    first, second = chat.index("Kysyy e-kirjoista."), chat.index("Tarvitsee myös kirjastokortin.")
    assert first < second
    assert "Transferred from Neuvonta by Aino N." in chat
    assert "Transferred from Asiantuntija by Asiantuntija Ville" in chat
    page = client.get("/chat/customer/conversation").get_data(as_text=True)
    assert "Aino N. has started the chat." in page
    assert "Asiantuntija Ville has transferred you to another queue." in page
    assert "Erja has started the chat." in page
    assert "Aino" not in page.replace("Aino N.", "")  # her staff name is never shown to the customer
    with app.app_context():
        names = db.session.scalars(select(QueueTransfer.agent_name).order_by(QueueTransfer.id)).all()
        assert names == ["Aino N.", "Asiantuntija Ville"]
