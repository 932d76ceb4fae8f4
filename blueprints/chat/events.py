"""Socket.IO for chat customers: their own namespace, admitted only with a signed customer token.

Staff use the default namespace of common.live (rooms per unit); a customer's socket joins
only the rooms of their own conversation and its queue. Messages themselves go over HTTP
(rate-limited, committed first); sockets only say that something changed.
"""
from flask import session
from flask_socketio import join_room

from app import socketio
from blueprints.chat import presence, service
from common import live


@socketio.on("connect", namespace=service.CUSTOMER_NAMESPACE)
def connect_customer(auth=None):
    conversation = service.conversation_for_token(session.get("chat_customer"))
    if conversation is None or not conversation.is_open:
        return False
    join_room(service.conversation_room(conversation.id))
    join_room(service.queue_room(conversation.queue_id))
    return True


# Staff sockets (common.live): an agent whose last page closes starts a grace period.
@live.staff_connected.connect
def staff_connected(app, user, sid):
    presence.socket_connected(user, sid)


@live.staff_disconnected.connect
def staff_disconnected(app, sid):
    presence.socket_disconnected(sid)
