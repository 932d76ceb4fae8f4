"""Chat routes: agents reach only queues and conversations of their units; the customer
routes are public but reach only the conversation named by the browser's own signed token."""
from tests.matrix import ADMIN, AGENT, AGENT_OTHER, MAIN_USER, PUBLIC, Access

AGENTS = frozenset({ADMIN, AGENT, AGENT_OTHER})
AGENTS_OF_L = frozenset({ADMIN, AGENT})
ADMIN_ONLY = frozenset({ADMIN})
INTERNAL_PARTICIPANT = frozenset({AGENT})
# Statistics: service admins of all units, chat agents and main users of their own.
STATISTICS = frozenset({ADMIN, MAIN_USER, AGENT, AGENT_OTHER})


def prepare(world):
    from blueprints.chat.models import AgentSession, ChatQueue, Conversation
    from extensions import db

    queue = ChatQueue(unit_id=world.units["L"].id, name="Neuvonta", is_open=True, waiting_message="Odota")
    db.session.add(queue)
    db.session.flush()
    # Served by the admin, logged in to customer service for the queue: the agent of L may read
    # it but not write in it nor act on it.
    conversation = Conversation(queue_id=queue.id, token="matrix-token", customer_name="Toni", state="served",
                                agent_id=world.users["admin"].id, agent_name="Admin")
    db.session.add(conversation)
    db.session.add(AgentSession(user_id=world.users["admin"].id, display_name="Admin", queues=[queue]))
    db.session.flush()
    # A closed specialist queue: the target of a transfer.
    specialist = ChatQueue(unit_id=world.units["L"].id, name="Asiantuntija", is_open=False, waiting_message="")
    db.session.add(specialist)
    db.session.flush()
    world.extra["queue"] = queue.id
    world.extra["specialist"] = specialist.id
    world.extra["conversation"] = conversation.id
    # A second chat agent of L, and the internal chat between the agent of L and them.
    from blueprints.accounts import service as accounts
    from blueprints.chat.models import InternalConversation
    from common.access import Role

    colleague = accounts.create_user("colleague", "Colleague", "colleague@example.org", "en", None,
                                     [(Role.CHAT_AGENT, world.units["L"])])
    first, second = sorted((world.users["agent"].id, colleague.id))
    chat = InternalConversation(first_id=first, second_id=second, listed_by_first=True, listed_by_second=True)
    db.session.add(chat)
    db.session.flush()
    world.extra["colleague"] = colleague.id
    world.extra["internal"] = chat.id
    # Canned replies: one of the queue (kept by the agents of L and the admin), one of the agent of
    # L alone.
    from blueprints.chat.models import CannedReply

    queue_reply = CannedReply(queue_id=queue.id, name="Aukioloajat", text_fi="Hei {customer}")
    own_reply = CannedReply(owner_id=world.users["agent"].id, name="Oma", text_fi="Kiitos")
    db.session.add_all([queue_reply, own_reply])
    db.session.flush()
    world.extra["queue_reply"] = queue_reply.id
    world.extra["own_reply"] = own_reply.id
    # A queue of L that keeps transcripts, with a chat that ended: found and opened by the agents
    # of L and service admins only (blueprints/chat/transcripts.py).
    from common.clock import utcnow

    archive = ChatQueue(unit_id=world.units["L"].id, name="Arkisto", is_open=False, keep_days=30)
    db.session.add(archive)
    db.session.flush()
    kept = Conversation(queue_id=archive.id, token="matrix-kept", customer_name="Tiina", state="ended",
                        agent_id=world.users["agent"].id, agent_name="Agent", served_at=utcnow(), ended_at=utcnow())
    db.session.add(kept)
    db.session.flush()
    world.extra["kept"] = kept.id


def _conversation(w):
    return {"conversation_id": w.extra["conversation"]}


ROUTES = {
    "chat_customer.index": Access(PUBLIC),
    "chat_customer.conversation": Access(PUBLIC),
    "chat_customer.lines": Access(PUBLIC),
    "chat_customer.message": Access(PUBLIC, method="POST", data=lambda w: {"body": "Hei"}, status=200),
    "chat_customer.leave": Access(PUBLIC, method="POST"),
    # Reaches only the browser's own conversation; without one it answers "no chat open".
    "chat_customer.question": Access(PUBLIC, method="POST",
                                     data=lambda w: {"email": "toni@example.org", "question": "Hei"}, status=200),
    # The chat button on the library's website: what any visitor of that site may know.
    "chat.widget_script": Access(PUBLIC, args=lambda w: {"queue_id": w.extra["queue"]}),
    "chat.widget_status": Access(PUBLIC, args=lambda w: {"queue_id": w.extra["queue"]}),
    "chat.index": Access(AGENTS),
    # The agent of L2 cannot choose L's queue: the choice is refused at the field.
    "chat.service_login": Access(AGENTS, method="POST",
                                 data=lambda w: {"queues": w.extra["queue"], "display_name": "Toni"},
                                 answers={ADMIN: 422, AGENT_OTHER: 422}),
    "chat.service_logout": Access(AGENTS, method="POST"),
    "chat.queue_list": Access(AGENTS),
    "chat.customer_list": Access(AGENTS_OF_L, args=lambda w: {"queue": w.extra["queue"]}),
    "chat.customer_pager": Access(AGENTS_OF_L, args=lambda w: {"queue": w.extra["queue"]}),
    "chat.chat_view": Access(AGENTS_OF_L, args=lambda w: {"conversation": w.extra["conversation"]}),
    "chat.chat_lines": Access(AGENTS_OF_L, args=_conversation),
    "chat.active_list": Access(AGENTS),
    # Claiming needs the service login for the queue (the admin's is answered "already served").
    "chat.claim": Access(ADMIN_ONLY, method="POST", args=_conversation, status=409, refused={AGENT: 403}),
    # Only the serving agent acts on a served chat. The admin asks first; where that ends the
    # service (release, remove, end, transfer), the agent of L then finds a chat nobody serves
    # and is answered 409 with the reason (tests/chat/test_routes_and_events.py asks them as a
    # colleague of a served chat: 403).
    "chat.video": Access(ADMIN_ONLY, method="POST", args=_conversation, status=200, refused={AGENT: 403}),
    "chat.release": Access(AGENTS_OF_L, method="POST", args=_conversation, status=200, answers={AGENT: 403}),
    # Nobody removes a served customer: the serving admin is answered 409 ("release them or end the chat").
    "chat.remove": Access(AGENTS_OF_L, method="POST", args=_conversation, status=409, answers={AGENT: 403}),
    "chat.end": Access(AGENTS_OF_L, method="POST", args=_conversation, status=200, answers={AGENT: 403}),
    # Only the serving agent writes; the agent of L reads this chat and is refused like the agent of L2.
    "chat.send": Access(ADMIN_ONLY, method="POST", args=_conversation, data=lambda w: {"body": "Hei"}, status=200,
                        refused={AGENT: 403}),
    # Only the agent who serves (or served) the customer; the reading agent of L is refused.
    "chat.email_transcript": Access(ADMIN_ONLY, method="POST", args=_conversation,
                                    data=lambda w: {"transcript-email": "toni@example.org",
                                                    "transcript-language": "en"},
                                    status=200, refused={AGENT: 403}),
    "chat.transfer_form": Access(ADMIN_ONLY, args=_conversation, refused={AGENT: 403}),
    "chat.transfer": Access(AGENTS_OF_L, method="POST", args=_conversation,
                            data=lambda w: {"transfer-target": w.extra["specialist"], "transfer-note": "Hei"},
                            status=200, answers={AGENT: 403}),
    "chat.statistics": Access(STATISTICS),
    "chat.statistics_csv": Access(STATISTICS),
    "chat.queue_settings": Access(AGENTS_OF_L, args=lambda w: {"queue_id": w.extra["queue"]}),
    # Internal chat: the agent of L reaches the colleague of L (a service admin reaches every chat
    # agent), the agent of L2 does not; only the two people of an internal chat read or write it.
    "chat.colleague_list": Access(AGENTS),
    # A colleague of another unit is refused like a user that does not exist (403 for both).
    "chat.internal_start": Access(AGENTS_OF_L, method="POST", args=lambda w: {"user_id": w.extra["colleague"]},
                                  refused={AGENT_OTHER: 403}),
    "chat.internal_chat": Access(INTERNAL_PARTICIPANT, args=lambda w: {"conversation_id": w.extra["internal"]}),
    "chat.internal_lines": Access(INTERNAL_PARTICIPANT, args=lambda w: {"conversation_id": w.extra["internal"]}),
    "chat.internal_send": Access(INTERNAL_PARTICIPANT, method="POST",
                                 args=lambda w: {"conversation_id": w.extra["internal"]},
                                 data=lambda w: {"body": "Hei"}, status=200),
    # Canned replies: the page lists what each agent keeps; a queue's reply is its agents' and the
    # admins', a personal one its owner's alone (another's looks missing: 404).
    # Desktop notification choices: an agent's own, read and changed by that agent alone.
    "chat.notify_choices": Access(INTERNAL_PARTICIPANT, args=lambda w: {"user_id": w.users["agent"].id},
                                  refused={ADMIN: 403, AGENT_OTHER: 403}),
    "chat.canned_replies": Access(AGENTS),
    "chat.canned_reply": Access(AGENTS_OF_L, args=lambda w: {"reply_id": w.extra["queue_reply"]}),
    "chat.canned_reply_delete": Access(INTERNAL_PARTICIPANT, method="POST",
                                       args=lambda w: {"reply_id": w.extra["own_reply"]}),
    # Only into a chat the asker writes in: the admin serves the chat; the agent of L reads it (403).
    "chat.canned_search": Access(ADMIN_ONLY, args=lambda w: {"conversation": w.extra["conversation"]},
                                 refused={AGENT: 403}),
    "chat.canned_used": Access(ADMIN_ONLY, method="POST",
                               args=lambda w: {"reply_id": w.extra["queue_reply"],
                                               "conversation": w.extra["conversation"]},
                               status=204, refused={AGENT: 403}),
    # Any agent who may read the chat adds an internal note.
    "chat.add_note": Access(AGENTS_OF_L, method="POST", args=_conversation, data=lambda w: {"note": "Muistiin"},
                            status=200),
    # Finding an earlier conversation: service admins and the chat agents of the queue's unit.
    "chat.transcripts_search": Access(AGENTS),
    "chat.transcript": Access(AGENTS_OF_L, args=lambda w: {"conversation_id": w.extra["kept"]}),
    "chat.transcript_email": Access(AGENTS_OF_L, method="POST", args=lambda w: {"conversation_id": w.extra["kept"]},
                                    data=lambda w: {"transcript-email": "tiina@example.org",
                                                    "transcript-language": "en"}, status=200),
    # Only a browser whose chat ended (in a queue that asks) answers; this one has none.
    "chat_customer.rating": Access(PUBLIC, method="POST", data=lambda w: {"answer": "yes"}, status=409),
    # No conversation of this browser is in a call: nothing is relayed.
    "chat_customer.video_page_closed": Access(PUBLIC, method="POST",
                                              data=lambda w: {"conversation": w.extra["conversation"], "call": "c1"},
                                              status=409),
    "chat.admin_queues": Access(ADMIN_ONLY),
    "chat.admin_queue": Access(ADMIN_ONLY, args=lambda w: {"queue_id": w.extra["queue"]}),
}
