"""Socket.IO for chat customers: their own namespace, admitted only with a signed customer token.

Staff use the default namespace of common.live (rooms per unit); a customer's socket joins
only the rooms of their own conversation and its queue. Messages themselves go over HTTP
(rate-limited, committed first); sockets only say that something changed, and carry the
signals of a video call between the serving agent and the customer (blueprints/chat/video.py).
An agent desk says which chat it shows ("chat-watch"), so that a new line reaches only the
desks that show it.

Staff sockets coming and going, the desk's heartbeat and logging out of the site update the
presence colleagues see in the internal chat (blueprints/chat/internal.py); an agent left
without a live socket starts the grace period before their customers return to the queue
(blueprints/chat/staffing.py). A customer's page is tracked the same way on their conversation,
so a customer who closed the tab leaves after their own grace period.
"""
from flask import session
from flask_login import current_user, user_logged_out
from flask_socketio import join_room, leave_room, rooms

from blueprints.chat import internal, service, staffing, typing_indicator, video
from blueprints.chat import live as chat_live
from blueprints.chat.models import Conversation
from common import live, logs, socket_limits
from extensions import db, socketio


@socketio.on("connect", namespace=chat_live.CUSTOMER_NAMESPACE)
def connect_customer(auth=None):
    if live.sent_by_client():
        return None
    conversation = service.conversation_for_token(session.get("chat_customer"))
    if conversation is None or not conversation.is_open:
        logs.websocket_refused()
        return False
    join_room(chat_live.conversation_room(conversation.id))
    join_room(chat_live.queue_room(conversation.queue_id))
    staffing.customer_connected(conversation.id)
    live.tell_on_connect()
    logs.websocket_opened(logs.CUSTOMER)
    return True


@socketio.on("disconnect", namespace=chat_live.CUSTOMER_NAMESPACE)
@live.on_disconnect
def disconnect_customer(reason=None):
    logs.websocket_closed(logs.CUSTOMER)
    conversation = service.conversation_for_token(session.get("chat_customer"))
    if conversation is not None:
        staffing.customer_disconnected(conversation.id)


@socket_limits.on("chat-presence", namespace=chat_live.CUSTOMER_NAMESPACE)
def customer_still_here():
    """The customer page's heartbeat, so a page whose server process stopped is not kept forever."""
    conversation = service.conversation_for_token(session.get("chat_customer"))
    if conversation is not None and conversation.is_open:
        staffing.customer_heard(conversation.id)


@live.staff_connected.connect
def staff_connected(user):
    internal.socket_connected(user)
    staffing.agent_back(user)


@live.staff_disconnected.connect
def staff_disconnected(user):
    internal.socket_disconnected(user)
    staffing.agent_maybe_gone(user)  # after the count went down: was it the last socket?


@user_logged_out.connect
def staff_logged_out(app, user):
    internal.logged_out(user)
    staffing.agent_maybe_gone(user)


@socket_limits.on("chat-presence")
def still_here(*_ignored):
    """The agent desk's heartbeat; only a logged-in staff socket exists on this namespace."""
    if current_user.is_authenticated:
        internal.heard_from(current_user._get_current_object())
        staffing.agent_back(current_user._get_current_object())


@socket_limits.on("chat-watch")
def watch_chat(conversation_id=None, *_ignored):
    """The agent desk names the chat it shows (None: none), to hear of that chat's new lines.
    The answer says whether the socket now follows it, and how many lines the chat has, so a desk
    that rendered it before a line came in reads it again; a chat the agent may not read is refused."""
    if not current_user.is_authenticated or not current_user.active:
        return {"ok": False}
    for room in rooms():
        if room.startswith(chat_live.watch_room("")):
            leave_room(room)
    if not live.is_id(conversation_id):
        return {"ok": False}
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None or not service.may_read(current_user, conversation):
        return {"ok": False}
    join_room(chat_live.watch_room(conversation.id))
    return {"ok": True, "lines": service.line_count(conversation)}


@socket_limits.on("video")
def agent_video_signal(message=None, *_ignored):
    """A video signal from a staff socket; the answer (an acknowledgement) says whether it was relayed."""
    if not current_user.is_authenticated or not current_user.active:
        return {"ok": False}
    try:
        video.signal_from_agent(current_user, message)
    except video.SignalRefused:
        return {"ok": False}
    return {"ok": True}


@socket_limits.on("video", namespace=chat_live.CUSTOMER_NAMESPACE)
def customer_video_signal(message=None, *_ignored):
    """A video signal from a customer's socket: only for the conversation of their own token."""
    try:
        video.signal_from_customer(service.conversation_for_token(session.get("chat_customer")), message)
    except video.SignalRefused:
        return {"ok": False}
    return {"ok": True}


@socket_limits.on("chat-typing")
def agent_typing(message=None, *_ignored):
    """The serving agent's desk: typing or stopped in a chat ({"conversation", "typing"}), never
    the text; relayed to the customer (blueprints/chat/typing_indicator.py)."""
    return {"ok": typing_indicator.from_agent(message)}


@socket_limits.on("chat-typing", namespace=chat_live.CUSTOMER_NAMESPACE)
def customer_typing(message=None, *_ignored):
    """The customer's page: typing or stopped ({"typing"}), in their own open conversation only."""
    return {"ok": typing_indicator.from_customer(service.conversation_for_token(session.get("chat_customer")), message)}
