"""Typing indicators, both ways: "The customer is typing…" on the desks that show the chat and
in the serving agent's active list; "The librarian is typing…" on the customer's page.

A page says over its socket that its person is typing or has stopped (static/js/chat-typing.js:
while typing, at most once every TYPING_INTERVAL_SECONDS; once when the box is emptied, the
message sent or nothing typed for a few seconds). Only that: never the text. The server relays it
to the other side at most once per TYPING_INTERVAL_SECONDS per chat and side while typing, and
once when typing stops (`gate`), so a page that sends more (or a forged client) makes no more
events. Nothing is stored: the gate is in this process's memory (a chat's socket is on one
process), and a page that shows "typing" drops it by itself when nothing more comes
(INDICATOR_SECONDS in the script).

Who may say it: the customer of an open conversation (their signed token), and the agent who
serves the chat (a colleague reading it does not write in it).
"""
import threading
import time

from flask_login import current_user

from blueprints.chat import live as chat_live
from blueprints.chat import service
from blueprints.chat.models import Conversation
from common import live
from extensions import db

TYPING_INTERVAL_SECONDS = 2.0
FORGET_AFTER_SECONDS = 60.0  # a chat whose "stopped" never came is forgotten after this

CUSTOMER, AGENT = "customer", "agent"

_relayed: dict[tuple[int, str], float] = {}  # (conversation, side) -> when "typing" was last relayed
_lock = threading.Lock()
clock = time.monotonic  # replaced in tests


def gate(conversation_id: int, side: str, typing: bool) -> bool:
    """True when this news is to be relayed: "typing" unless it was relayed for this chat and
    side less than TYPING_INTERVAL_SECONDS ago; "stopped" only after a relayed "typing"."""
    now = clock()
    key = (conversation_id, side)
    with _lock:
        if len(_relayed) > 1000:  # chats whose page went without saying it stopped
            for stale in [k for k, at in _relayed.items() if now - at > FORGET_AFTER_SECONDS]:
                del _relayed[stale]
        last = _relayed.get(key)
        if not typing:
            return _relayed.pop(key, None) is not None
        if last is not None and now - last < TYPING_INTERVAL_SECONDS:
            return False
        _relayed[key] = now
        return True


def forget() -> None:
    """Forget every chat (for the tests)."""
    with _lock:
        _relayed.clear()


def _typing(message: object) -> bool | None:
    value = message.get("typing") if isinstance(message, dict) else None
    return value if isinstance(value, bool) else None


def from_customer(conversation: Conversation | None, message: object) -> bool:
    """The customer's page: typing or stopped, in their own open conversation. False when refused."""
    typing = _typing(message)
    if conversation is None or not conversation.is_open or typing is None:
        return False
    if gate(conversation.id, CUSTOMER, typing):
        chat_live.relay_customer_typing(conversation, typing)
    return True


def from_agent(message: object) -> bool:
    """The desk of the agent who serves the chat: typing or stopped. False when refused."""
    typing = _typing(message)
    conversation_id = message.get("conversation") if isinstance(message, dict) else None
    if typing is None or not live.is_id(conversation_id):
        return False
    if not current_user.is_authenticated or not current_user.active:
        return False
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None or not service.may_write(current_user, conversation):
        return False
    if gate(conversation.id, AGENT, typing):
        chat_live.relay_agent_typing(conversation, typing)
    return True
