"""The chat's live contract: its events, the rooms they go to, and who is told what.

Every event is emitted after the commit (common.live.announce). Pages subscribe to them only
through the live_region macro (templates/_macros.html); an event's data say which chat, queue,
agent or internal chat it concerns, so each desk re-reads only the regions that show it.
"""
from flask import render_template
from flask_babel import force_locale
from sqlalchemy import select

from blueprints.chat.models import ConversationState
from common import live
from common.access import Role
from extensions import LANGUAGES, db

CUSTOMER_NAMESPACE = "/customer"  # the customers' sockets, admitted by the signed token

# A queue's line or a chat's state: queue, conversation, agent (whose own chats changed: the
# serving one or the one who let go), waiting (the queue's count, which pages show as pushed),
# kind ("join": a new customer at the end of the line, at `place`; "state": anything else).
CHAT_CHANGED = "chat-changed"
CHAT_MESSAGE = "chat-message"  # a new line in a chat (conversation, queue, agent; the line rendered)
CUSTOMER_CHANGED = "customer-changed"  # to a customer's page: re-read your conversation
CUSTOMER_LINE = "customer-line"  # to a customer's page: a new line, read it
INTERNAL_CHANGED = "internal-changed"  # an internal chat between colleagues (internal)
INTERNAL_LINE = "internal-line"  # a new line in an internal chat, rendered for its reader (internal, item)
PRESENCE_CHANGED = "presence-changed"  # a colleague came, went or changed their service login (user)
VIDEO_SIGNAL = "video-signal"  # a video call's signal, relayed between the two pages (static/js/chat-video.js)
# Typing indicators (blueprints/chat/typing_indicator.py), never the text: to the desks, the customer is
# typing or stopped (conversation, typing); to the customer's page, the agent (typing).
CUSTOMER_TYPING = "customer-typing"
AGENT_TYPING = "agent-typing"

EVENTS = (CHAT_CHANGED, CHAT_MESSAGE, CUSTOMER_CHANGED, CUSTOMER_LINE, INTERNAL_CHANGED, INTERNAL_LINE,
          PRESENCE_CHANGED, VIDEO_SIGNAL, CUSTOMER_TYPING, AGENT_TYPING)


def conversation_room(conversation_id):
    return f"conversation:{conversation_id}"


def queue_room(queue_id):
    return f"queue:{queue_id}"


def watch_room(conversation_id):
    """The staff sockets of the desks that show this chat (events.watch_chat)."""
    return f"watch:{conversation_id}"


def _waiting(queue_id):
    """The queue's waiting count, which the event carries."""
    from blueprints.chat.service import waiting_counts  # the service announces through this module

    return waiting_counts([queue_id]).get(queue_id, 0)


def announce_chat_changed(conversation=None, queue=None, line_changed=True, agent_id=None, joined=False, row=None):
    """Tell the unit's agents and the customers concerned that something changed; `agent_id`
    names the agent who just stopped serving the chat (a release, a transfer), whose list of
    active chats changes too.

    A join (`joined`) changes only the count, which the event carries, and the list of the desks
    whose page of it reaches the new customer's place, which `row` (rendered_item) brings them;
    everything else is a change of state.
    Waiting customers of the queue hear only changes to their place in the line (claims,
    releases, removals, the waiting message), not a join behind them nor other customers' chats."""
    queue = queue or conversation.queue
    if agent_id is None and conversation is not None:
        agent_id = conversation.agent_id
    waiting = _waiting(queue.id)
    place = {"place": waiting} if joined else {}
    # A customer waiting again (released to the queue, transferred to it): the desks' notifications
    # announce them as they announce a join (static/js/chat-notify.js).
    again = ({"state": "waiting", "customer": conversation.customer_name or ""}
             if not joined and conversation is not None and conversation.state == ConversationState.WAITING else {})
    live.announce(CHAT_CHANGED, room=live.unit_room(queue.unit_id), queue=queue.id,
                  conversation=conversation.id if conversation else None, agent=agent_id, waiting=waiting,
                  kind="join" if joined else "state", **place, **again, **(row or {}))
    # Waiting customers of the queue recount their position; this customer re-reads the chat.
    if line_changed:
        live.announce(CUSTOMER_CHANGED, room=queue_room(queue.id), namespace=CUSTOMER_NAMESPACE)
    if conversation is not None:
        live.announce(CUSTOMER_CHANGED, room=conversation_room(conversation.id), namespace=CUSTOMER_NAMESPACE)


def announce_left_queue(conversation, source, agent_id=None):
    """A transferred chat leaves the list of the queue it was in: the desks that show that queue
    (the transferring agent's among them) re-read it, in the same unit or another. `agent_id`
    when the unit is another, whose desks did not hear of the transfer itself."""
    live.announce(CHAT_CHANGED, room=live.unit_room(source.unit_id), queue=source.id, conversation=conversation.id,
                  agent=agent_id, waiting=_waiting(source.id), kind="state")


def unit_languages(unit_id, also=None):
    """The languages of the staff of a unit (whose pages hear its events), and `also` (a
    customer's): what an item is rendered in and sent to every desk in. Each language costs
    rendering time and bytes to every desk; a page in another language (a service admin's)
    reads the item instead."""
    from blueprints.accounts.models import RoleAssignment, User  # the accounts' models, read only

    spoken = set(db.session.scalars(
        select(User.language).join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.unit_id == unit_id, User.active).distinct()))
    if also:
        spoken.add(also)
    return [language for language in LANGUAGES if language in spoken]


def rendered_item(template, item, previous, languages=LANGUAGES, **context):
    """A new item of a list (a chat's line, a queue's customer) as its readers' pages show it,
    rendered once in each of their `languages` (it differs only in the words and the time's
    format), with the item it follows: a page that shows that one adds it as it is
    (static/js/live-items.js), any other page (or one in another language) reads what it lacks."""
    html = {}
    for language in languages:
        with force_locale(language):
            html[language] = render_template(template, **context)
    return {"item": item, "previous": previous, "html": html}


def announce_line(conversation, message, previous, customer_previous):
    """A new line in a chat is news only to the desks that show it (the serving agent, for the
    "New messages!" badge, and whoever has the chat open) and to the customer. Told to the whole
    unit, every message would make each of twenty desks re-fetch its columns. It comes rendered
    (rendered_item), so that no page has to ask for it. A staff note is never told to the
    customer's page; the customer's line before a new one is the last line they may read
    (`customer_previous`: notes left out)."""
    from blueprints.chat.models import Sender

    staff = [watch_room(conversation.id)]
    if conversation.agent_id is not None:
        staff.append(live.user_room(conversation.agent_id))
    line = rendered_item("chat/_line.html", message.id, previous, m=message,
                         languages=unit_languages(conversation.queue.unit_id, also=conversation.language))
    live.announce(CHAT_MESSAGE, room=staff, conversation=conversation.id, queue=conversation.queue_id,
                  agent=conversation.agent_id, **line)
    if message.sender == Sender.NOTE:
        return
    line["previous"] = customer_previous
    live.announce(CUSTOMER_LINE, room=conversation_room(conversation.id), namespace=CUSTOMER_NAMESPACE, **line)


def sent_line(message):
    """The answer to a page's script that sent a line: nothing to show (the line reaches every
    page with its event, the sender's too), and the line's id, so that the sender's page asks for
    it only when the event does not come (static/js/chat.js)."""
    return "", 204, {"X-Chat-Line": str(message.id)}


def announce_internal(conversation, user_ids=None):
    """An internal chat changed: its two people (or only `user_ids`) re-read it and their lists."""
    for user_id in user_ids or (conversation.first_id, conversation.second_id):
        live.announce(INTERNAL_CHANGED, room=live.user_room(user_id), internal=conversation.id)


def announce_internal_line(conversation, message, previous):
    """A new line in an internal chat: each of the two gets it rendered as they read it (theirs or
    their colleague's, in their language), so that a desk showing the chat adds it without asking,
    and their active list is told of it ("New messages!")."""
    for reader in (conversation.first, conversation.second):
        with force_locale(reader.language):
            html = render_template("chat/_internal_line.html", m=message, viewer_id=reader.id)
        live.announce(INTERNAL_LINE, room=live.user_room(reader.id), internal=conversation.id,
                      item=message.id, previous=previous, html={reader.language: html})


def announce_presence(user):
    """Tell the colleagues' desks (the rooms of my chat units, and service admins) to re-read."""
    for unit_id in user.unit_ids(Role.CHAT_AGENT):
        live.announce(PRESENCE_CHANGED, room=live.unit_room(unit_id), user=user.id)
    live.announce(PRESENCE_CHANGED, room=live.role_room(Role.SERVICE_ADMIN), user=user.id)


def announce_video_signal(conversation, **signal):
    """A signal from the agent to the customer's page, after the commit."""
    live.announce(VIDEO_SIGNAL, room=conversation_room(conversation.id), namespace=CUSTOMER_NAMESPACE,
                  conversation=conversation.id, **signal)


def relay_video_signal(to_customer, conversation, **signal):
    """A signal that changes nothing stored goes at once, to the other side of the call."""
    if to_customer:
        live.emit_now(VIDEO_SIGNAL, room=conversation_room(conversation.id), namespace=CUSTOMER_NAMESPACE,
                      conversation=conversation.id, **signal)
    else:
        live.emit_now(VIDEO_SIGNAL, room=live.user_room(conversation.agent_id), conversation=conversation.id, **signal)


def relay_customer_typing(conversation, typing):
    """The customer is typing (or stopped): to the desks that show the chat and to its serving
    agent (the active list). Changes nothing stored, so it goes at once."""
    rooms = [watch_room(conversation.id)]
    if conversation.agent_id is not None:
        rooms.append(live.user_room(conversation.agent_id))
    live.emit_now(CUSTOMER_TYPING, room=rooms, conversation=conversation.id, typing=typing)


def relay_agent_typing(conversation, typing):
    """The serving agent is typing (or stopped): to the customer's page."""
    live.emit_now(AGENT_TYPING, room=conversation_room(conversation.id), namespace=CUSTOMER_NAMESPACE,
                  typing=typing)
