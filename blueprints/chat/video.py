"""Video chat: the serving agent invites the customer, and the two browsers hold a WebRTC call.

The server never sees media. It relays the call's signals (offer, answer, ICE candidates,
accept, decline, end) between the serving agent's sockets and the customer's socket, and only
between those two: every signal is checked against the conversation it names. No call state is
stored; the browsers tell their signals apart by a call id made at the invitation. Starting,
accepting, declining and ending a call are audited.
"""
import secrets
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from blueprints.accounts.models import User
from blueprints.chat import live as chat_live
from blueprints.chat import service
from blueprints.chat.models import Conversation, ConversationState
from common import audit
from common.live import is_id
from common.refusals import Conflict
from common.transactions import write_transaction
from extensions import db

CALL_ID_MAX_LENGTH = 40
SDP_MAX_LENGTH = 20_000
CANDIDATE_MAX_LENGTH = 1_000

# What each side may say; anything else is refused.
AGENT_SIGNALS = {"offer", "candidate", "end"}
CUSTOMER_SIGNALS = {"accept", "decline", "failed", "answer", "candidate", "end"}
AUDITED = {"accept": "chat.video_accepted", "decline": "chat.video_declined",
           "failed": "chat.video_failed", "end": "chat.video_ended"}
REASONS = {"no-camera", "not-allowed", "unavailable", "connection", "closed"}


class SignalRefused(Exception):
    """A signal that is not this person's to send (another conversation, not the serving agent, bad form)."""


def ice_servers() -> list[dict[str, Any]]:
    """STUN/TURN servers for networks where the browsers cannot reach each other directly.

    None by default: on a local network the host candidates connect. CHAT_ICE_SERVERS is a list
    of RTCIceServer objects, e.g. [{"urls": "turn:turn.example.org", "username": "u",
    "credential": "p"}], in instance/config.py or as JSON in the environment.
    """
    return list(current_app.config.get("CHAT_ICE_SERVERS") or [])


def may_call(user: User, conversation: Conversation) -> bool:
    """Only the agent serving a customer may call them (not a reading colleague)."""
    return conversation.state == ConversationState.SERVED and conversation.agent_id == user.id


@write_transaction()
def start(conversation: Conversation, user: User) -> str:
    """The agent starts a video chat: a waiting customer is claimed first (as for a text chat),
    then the customer is asked to accept; one transaction, so a call that cannot start leaves the
    customer waiting. Returns the new call's id."""
    service.check_may_act(user, conversation)  # not a colleague's chat
    if conversation.state == ConversationState.WAITING:
        conversation = service.claim(conversation.id, user)
    if not may_call(user, conversation):
        raise Conflict(_l("Only the serving agent can start a video chat."))
    call = secrets.token_urlsafe(12)
    audit.record("chat.video_started", obj=conversation, unit=conversation.queue.unit_id, call=call)
    chat_live.announce_video_signal(conversation, call=call, kind="invite")
    return call


def _clean(message: object, allowed: set[str]) -> dict[str, Any]:
    """The parts of a signal we relay, checked for shape and size; refused when malformed."""
    if not isinstance(message, dict):
        raise SignalRefused()
    kind, call = message.get("kind"), message.get("call")
    if kind not in allowed or not isinstance(call, str) or not 0 < len(call) <= CALL_ID_MAX_LENGTH:
        raise SignalRefused()
    signal: dict[str, Any] = {"kind": kind, "call": call}
    if kind in ("offer", "answer"):
        description = message.get("description")
        if (not isinstance(description, dict) or description.get("type") != kind
                or not isinstance(description.get("sdp"), str) or len(description["sdp"]) > SDP_MAX_LENGTH):
            raise SignalRefused()
        signal["description"] = {"type": kind, "sdp": description["sdp"]}
    elif kind == "candidate":
        candidate = message.get("candidate")
        if not isinstance(candidate, dict) or not isinstance(candidate.get("candidate"), str):
            raise SignalRefused()
        if len(candidate["candidate"]) > CANDIDATE_MAX_LENGTH:
            raise SignalRefused()
        signal["candidate"] = {
            "candidate": candidate["candidate"],
            "sdpMid": candidate.get("sdpMid") if isinstance(candidate.get("sdpMid"), str) else None,
            "sdpMLineIndex": (candidate.get("sdpMLineIndex")
                              if isinstance(candidate.get("sdpMLineIndex"), int) else None),
        }
    elif message.get("reason") in REASONS:
        signal["reason"] = message["reason"]
    return signal


def _audit(conversation: Conversation, signal: dict[str, Any], by: str, actor: User | None = None) -> None:
    action = AUDITED.get(signal["kind"])
    if action:
        with write_transaction(keep_loaded=True):  # only the audit record: the conversation stays loaded for the relay
            audit.record(action, obj=conversation, unit=conversation.queue.unit_id, actor=actor,
                         call=signal["call"], by=by, **({"reason": signal["reason"]} if "reason" in signal else {}))


def signal_from_agent(user: User, message: object) -> None:
    """Relay the serving agent's signal to that conversation's customer, and nobody else."""
    conversation_id = message.get("conversation") if isinstance(message, dict) else None
    conversation = db.session.get(Conversation, conversation_id) if is_id(conversation_id) else None
    if conversation is None or not may_call(user, conversation):
        raise SignalRefused()
    signal = _clean(message, AGENT_SIGNALS)
    _audit(conversation, signal, "agent", actor=user)
    chat_live.relay_video_signal(True, conversation, **signal)


def signal_from_customer(conversation: Conversation | None, message: object) -> None:
    """Relay the customer's signal to the agent serving their own conversation, and nobody else.

    The customer's conversation comes from their signed token; a signal naming another
    conversation is refused, as is any signal while nobody serves them."""
    if conversation is None or conversation.state != ConversationState.SERVED:
        raise SignalRefused()
    if not isinstance(message, dict) or message.get("conversation") != conversation.id:
        raise SignalRefused()
    signal = _clean(message, CUSTOMER_SIGNALS)
    _audit(conversation, signal, "customer")
    chat_live.relay_video_signal(False, conversation, **signal)
