"""Canned replies: ready answers an agent inserts in the message box and edits before sending.

A reply belongs to a queue (kept by the queue's agents and the service admins, and offered in
that queue's chats) or to one agent alone (kept and offered only to them). It has a short name
and a text in one or more of the site's languages. In the message box, "/" at the start opens a
list of the replies the chat may use, searched as the agent types (static/js/chat-canned.js);
the chosen one is inserted with its placeholders filled in, in the chat's language, and never
sent by itself. Each insertion is counted for the statistics page.

Placeholders: {customer} (the customer's name), {agent} (the name customers see of the agent),
{queue} (the queue's name). In the internal chat there is no customer: {customer} is left as it
is, for the agent to write over, and {queue} is the reply's own queue.
"""
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from blueprints.accounts.models import User
from blueprints.chat import internal, service
from blueprints.chat.models import (
    CannedReply,
    CannedReplyUse,
    ChatQueue,
    Conversation,
    InternalConversation,
)
from blueprints.chat.statistics import utc_bounds
from common import audit
from common.clock import library_zone, utcnow
from common.refusals import NotAllowed, Refused
from common.transactions import write_transaction
from extensions import LANGUAGES, db

NAME_MAX_LENGTH = 60
TEXT_MAX_LENGTH = service.MESSAGE_MAX_LENGTH  # inserted into a message, which holds no more
SEARCH_LIMIT = 20  # options in the list: the agent narrows by typing
PLACEHOLDERS = ("{customer}", "{agent}", "{queue}")


# ---- who keeps which replies --------------------------------------------------------------------

def may_manage(user: User, reply: CannedReply) -> bool:
    """A queue's replies: its agents and the service admins. A personal reply: its owner alone."""
    if reply.owner_id is not None:
        return reply.owner_id == user.id
    return reply.queue is not None and service.may_serve(user, reply.queue)


def managed_queues(user: User) -> Sequence[ChatQueue]:
    """The queues whose replies the user keeps (a service admin: all)."""
    return service.queues_of_agent(user)


def replies_to_manage(user: User) -> tuple[Sequence[CannedReply], list[tuple[ChatQueue, list[CannedReply]]]]:
    """(my own replies, [(queue, its replies)]) for the management page, by name."""
    own = db.session.scalars(select(CannedReply).where(CannedReply.owner_id == user.id)
                             .order_by(func.lower(CannedReply.name), CannedReply.id)).all()
    queues = managed_queues(user)
    by_queue: dict[int, list[CannedReply]] = {q.id: [] for q in queues}
    for reply in db.session.scalars(select(CannedReply).where(CannedReply.queue_id.in_(list(by_queue)))
                                    .order_by(func.lower(CannedReply.name), CannedReply.id)):
        by_queue[reply.queue_id].append(reply)  # type: ignore[index]
    return own, [(q, by_queue[q.id]) for q in queues]


def use_counts(reply_ids: Sequence[int]) -> dict[int, int]:
    """How many times each reply has been inserted."""
    if not reply_ids:
        return {}
    return dict(db.session.execute(select(CannedReplyUse.reply_id, func.count())  # type: ignore[arg-type]
                                   .where(CannedReplyUse.reply_id.in_(reply_ids))
                                   .group_by(CannedReplyUse.reply_id)).all())


def _clean(name: str | None, texts: dict[str, str | None]) -> tuple[str, dict[str, str]]:
    name = (name or "").strip()
    if not name:
        raise Refused(_l("Give the reply a short name."), field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise Refused(_l("A name can be at most %(count)d characters.", count=NAME_MAX_LENGTH), field="name")
    cleaned = {language: (texts.get(language) or "").strip() for language in LANGUAGES}
    for language, text in cleaned.items():
        if len(text) > TEXT_MAX_LENGTH:
            raise Refused(_l("A reply can be at most %(count)d characters.", count=TEXT_MAX_LENGTH),
                          field=f"text_{language}")
    if not any(cleaned.values()):
        raise Refused(_l("Write the reply in at least one language."), field=f"text_{next(iter(LANGUAGES))}")
    return name, cleaned


@write_transaction()
def save_reply(reply: CannedReply | None, user: User, queue_id: int | None, name: str | None,
               texts: dict[str, str | None]) -> CannedReply:
    """Create or change a reply: a personal one (`queue_id` None, the user's own) or a queue's,
    for a queue the user may serve. A reply the user may not keep is refused (403)."""
    if reply is not None and not may_manage(user, reply):
        raise NotAllowed()
    queue = None
    if queue_id is not None:
        queue = db.session.get(ChatQueue, queue_id)
        if queue is None or not service.may_serve(user, queue):
            raise NotAllowed()
    name, cleaned = _clean(name, texts)
    reply = reply or CannedReply()
    reply.queue_id, reply.owner_id = (queue.id, None) if queue is not None else (None, user.id)
    reply.name = name
    for language, text in cleaned.items():
        setattr(reply, f"text_{language}", text)
    reply.updated_at = utcnow()
    db.session.add(reply)
    db.session.flush()
    audit.record("chat.canned_reply_saved", obj=reply, unit=queue.unit_id if queue else None,
                 queue=queue.id if queue else None)
    return reply


@write_transaction()
def delete_reply(reply: CannedReply, user: User) -> None:
    """Delete a reply the user keeps; its count of uses goes with it."""
    if not may_manage(user, reply):
        raise NotAllowed()
    audit.record("chat.canned_reply_deleted", obj=reply, unit=reply.queue.unit_id if reply.queue else None,
                 queue=reply.queue_id)
    db.session.delete(reply)


# ---- the chat the reply goes into ---------------------------------------------------------------

@dataclass
class ChatContext:
    """Where a reply is inserted: a customer chat the agent writes in, or an internal chat."""

    user: User
    conversation: Conversation | None = None
    internal: InternalConversation | None = None

    @property
    def queue_ids(self) -> list[int]:
        """The queues whose replies this chat offers: the customer's queue; in the internal chat,
        every queue the agent serves."""
        if self.conversation is not None:
            return [self.conversation.queue_id]
        return [q.id for q in service.queues_of_agent(self.user)]

    @cached_property
    def placeholder_values(self) -> dict[str, str]:
        """{customer}, {agent} and {queue} of this chat, read once for all the options of a search;
        in the internal chat only {agent} (the queue is each reply's own)."""
        session = service.agent_session(self.user)
        agent = session.display_name if session else self.user.display_name
        if self.conversation is None:
            return {"{agent}": agent}
        c = self.conversation
        return {"{customer}": c.customer_name, "{agent}": c.agent_name or agent, "{queue}": c.queue.name}

    @property
    def language(self) -> str:
        """The chat's language: the customer's; in the internal chat, the colleague's."""
        if self.conversation is not None:
            return self.conversation.language or self.user.language
        assert self.internal is not None
        return self.internal.other(self.user).language


def check_may_insert(context: ChatContext) -> None:
    """Replies go only into a chat the agent writes in: the customer chat they serve, or their own
    internal chat (refused with 403 otherwise)."""
    if context.conversation is not None:
        if not service.may_write(context.user, context.conversation):
            raise NotAllowed()
    elif context.internal is None or not internal.may_take_part(context.user, context.internal):
        raise NotAllowed()


def _offered(context: ChatContext):
    return or_(CannedReply.owner_id == context.user.id, CannedReply.queue_id.in_(context.queue_ids))


def _like(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def search(context: ChatContext, query: str | None) -> Sequence[CannedReply]:
    """The replies the chat offers whose name or text (in any language) holds `query`, names
    first, then alphabetically; at most SEARCH_LIMIT."""
    check_may_insert(context)
    statement = select(CannedReply).where(_offered(context))
    query = (query or "").strip()[:100]
    if query:
        pattern = _like(query)
        fields = [func.lower(CannedReply.name)] + [func.lower(getattr(CannedReply, f"text_{lang}"))
                                                    for lang in LANGUAGES]
        statement = statement.where(or_(*(f.like(pattern, escape="\\") for f in fields)))
        # A name that holds what was typed before a match in the text alone.
        statement = statement.order_by(func.lower(CannedReply.name).like(pattern, escape="\\").desc())
    statement = statement.order_by(func.lower(CannedReply.name), CannedReply.id).limit(SEARCH_LIMIT)
    return db.session.scalars(statement).all()


def text_for(reply: CannedReply, context: ChatContext) -> tuple[str, str]:
    """(the reply's text in the chat's language with its placeholders filled, that language). A
    reply without that language: the agent's own language, then the site's order of languages."""
    order = [context.language, context.user.language, *LANGUAGES]
    language = next((lang for lang in order if lang in LANGUAGES and reply.text(lang)), "")
    text = reply.text(language) if language else ""
    return fill(text, context, reply), language


def fill(text: str, context: ChatContext, reply: CannedReply) -> str:
    """The placeholders filled; one without a value (the customer in the internal chat, the queue
    of a personal reply there) stays for the agent to write over."""
    values = dict(context.placeholder_values)
    if context.conversation is None and reply.queue is not None:
        values["{queue}"] = reply.queue.name
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


@write_transaction()
def record_use(reply_id: int, context: ChatContext) -> None:
    """Count an insertion of a reply the chat offers (refused, 403, for any other reply)."""
    check_may_insert(context)
    reply = db.session.get(CannedReply, reply_id)
    if reply is None or not (reply.owner_id == context.user.id or reply.queue_id in context.queue_ids):
        raise NotAllowed()
    queue_id = context.conversation.queue_id if context.conversation is not None else reply.queue_id
    db.session.add(CannedReplyUse(reply_id=reply.id, queue_id=queue_id, used_by_id=context.user.id))


# ---- statistics ---------------------------------------------------------------------------------

@dataclass
class ReplyUses:
    reply: CannedReply
    uses: int


def uses_in(queue_ids: Sequence[int], start: date, end: date) -> list[ReplyUses]:
    """The replies inserted in the chats of these queues on the local dates start..end, the most
    used first."""
    if not queue_ids:
        return []
    lo, hi = utc_bounds(start, end, library_zone())
    rows = db.session.execute(
        select(CannedReply, func.count(CannedReplyUse.id).label("uses"))
        .join(CannedReplyUse, CannedReplyUse.reply_id == CannedReply.id)
        .where(CannedReplyUse.queue_id.in_(queue_ids), CannedReplyUse.used_at >= lo, CannedReplyUse.used_at < hi)
        .group_by(CannedReply.id)
        .order_by(func.count(CannedReplyUse.id).desc(), func.lower(CannedReply.name), CannedReply.id)
    ).all()
    return [ReplyUses(reply, uses) for reply, uses in rows]
