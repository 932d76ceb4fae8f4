"""Chat queue: service queues, agents logged in to customer service, conversations, messages;
the internal chat between colleagues and their presence."""
import enum
from datetime import datetime

from sqlalchemy import (
    Column,
    Enum,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.clock import utcnow
from extensions import Model, db


class ConversationState(enum.StrEnum):
    WAITING = "waiting"
    SERVED = "served"
    ENDED = "ended"
    REMOVED = "removed"


class Rating(enum.StrEnum):
    """The customer's answer to "Did you get the help you needed?" (blueprints/chat/ratings.py)."""

    YES = "yes"
    PARTLY = "partly"
    NO = "no"


class Sender(enum.StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"
    # An internal note of the staff on a customer chat: shown on the desk only, never to the
    # customer (not on their page, not in the transcript mail); purged with the chat.
    NOTE = "note"


class ChatQueue(Model):
    """A service queue of one unit; customers join only open queues."""

    __tablename__ = "chat_queue"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    is_open: Mapped[bool] = mapped_column(default=True)
    waiting_message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Retention: transcripts are kept this many days after the chat ends (0: not kept at all);
    # customer names in kept transcripts are anonymised after anonymise_after_days, if set.
    keep_days: Mapped[int] = mapped_column(default=0, server_default="0")
    anonymise_after_days: Mapped[int | None]
    # Where a waiting customer's question goes by email when nobody serves the queue.
    contact_email: Mapped[str | None] = mapped_column(String(254))
    # Whether a customer whose chat ended is asked "Did you get the help you needed?" (ratings.py).
    asks_rating: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The customers' own service instructions (seed 003 begins with a link to them): shown on
    # the desk for the queue and on the customer's page; an http(s) address, or none.
    instructions_url: Mapped[str | None] = mapped_column(String(500))
    # The chat button on the library's website (blueprints/chat/widget.py): the origins allowed
    # to show the customer page in a frame, one per line (none: not embeddable), and the
    # button's language when the host page's is not one the site speaks.
    embed_origins: Mapped[str] = mapped_column(Text, default="", server_default="")
    widget_language: Mapped[str | None] = mapped_column(String(5))

    unit = relationship("Unit")

    def __str__(self):
        return self.name


agent_session_queue = Table(
    "chat_agent_session_queue",
    db.metadata,
    Column("session_id", ForeignKey("chat_agent_session.id", ondelete="CASCADE"), primary_key=True),
    Column("queue_id", ForeignKey("chat_queue.id", ondelete="CASCADE"), primary_key=True),
)


class AgentSession(Model):
    """A chat agent logged in to customer service, with the queues they chose and the name customers see."""

    __tablename__ = "chat_agent_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), unique=True)
    display_name: Mapped[str] = mapped_column(String(60))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the agent's last staff socket went away; cleared when one connects again.
    disconnected_at: Mapped[datetime | None]

    user = relationship("User")
    queues: Mapped[list[ChatQueue]] = relationship(secondary=agent_session_queue, order_by=ChatQueue.name)


class Conversation(Model):
    """One customer's visit to the chat: waiting, served by one agent, then ended or removed.
    A transfer moves the same conversation, with its history, to another queue."""

    __tablename__ = "chat_conversation"
    __table_args__ = (Index("ix_chat_conversation_queue_joined", "queue_id", "joined_at"),)  # statistics

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("chat_queue.id"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    customer_name: Mapped[str] = mapped_column(String(60))
    state: Mapped[ConversationState] = mapped_column(
        Enum(ConversationState, native_enum=False, length=10), default=ConversationState.WAITING, index=True
    )
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    agent_name: Mapped[str | None] = mapped_column(String(60))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    served_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None] = mapped_column(index=True)
    unread_by_agent: Mapped[bool] = mapped_column(default=False)
    unread_by_customer: Mapped[bool] = mapped_column(default=False)
    # Retention (blueprints/chat/retention.py): the customer's name removed; the transcript removed.
    anonymised_at: Mapped[datetime | None]
    purged_at: Mapped[datetime | None]
    # The customer's page, kept like staff presence (blueprints/chat/staffing.py): its open
    # sockets, when one was last heard of, and when the last one went (cleared when one is back).
    customer_sockets: Mapped[int] = mapped_column(default=0, server_default="0")
    customer_seen_at: Mapped[datetime | None]
    customer_gone_at: Mapped[datetime | None]
    # The customer's language when they joined (the page's language): canned replies are
    # inserted in it. None for conversations from before it was kept.
    language: Mapped[str | None] = mapped_column(String(5))
    # The customer's answer when the chat ended (ratings.py): stored with the visit, nothing in
    # it names the customer; the comment is the customer's words and follows the transcript.
    rating: Mapped[Rating | None] = mapped_column(Enum(Rating, native_enum=False, length=10))
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None]

    queue = relationship(ChatQueue)
    agent = relationship("User")
    messages: Mapped[list["ChatMessage"]] = relationship(
        back_populates="conversation", order_by="ChatMessage.id", cascade="all, delete-orphan"
    )
    transfers: Mapped[list["QueueTransfer"]] = relationship(
        back_populates="conversation", order_by="QueueTransfer.id", cascade="all, delete-orphan"
    )
    # What the customer may read: every line but the staff's internal notes (their page and the
    # transcript mail read only this).
    customer_messages: Mapped[list["ChatMessage"]] = relationship(
        primaryjoin=lambda: and_(ChatMessage.conversation_id == Conversation.id, ChatMessage.sender != Sender.NOTE),
        order_by="ChatMessage.id", viewonly=True,
    )

    @property
    def is_open(self):
        return self.state in (ConversationState.WAITING, ConversationState.SERVED)

    @property
    def queue_chain(self):
        """The queues the customer has been in, first to current (General → Specialist)."""
        if not self.transfers:
            return [self.queue]
        return [self.transfers[0].from_queue] + [t.to_queue for t in self.transfers]


class ChatMessage(Model):
    """A line in a conversation; system lines store a code and are translated when shown."""

    __tablename__ = "chat_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("chat_conversation.id", ondelete="CASCADE"), index=True)
    sender: Mapped[Sender] = mapped_column(Enum(Sender, native_enum=False, length=10))
    author_name: Mapped[str] = mapped_column(String(60), default="")
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The sending page's own key for the message: sent again after a lost answer, it is stored once.
    client_key: Mapped[str | None] = mapped_column(String(40))

    conversation = relationship(Conversation, back_populates="messages")
    __table_args__ = (UniqueConstraint("conversation_id", "client_key", name="uq_chat_message_client_key"),)


class StaffPresence(Model):
    """Whether a staff member's browsers are connected. Kept in the database, not in a server
    process, because one person's sockets may land on different processes."""

    __tablename__ = "chat_staff_presence"

    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True)
    sockets: Mapped[int] = mapped_column(default=0)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)


class NotifyPreference(Model):
    """Which desktop notifications an agent wants (blueprints/chat/notify.py), kept on the server so
    that the choice follows them to another browser or computer; no row: none."""

    __tablename__ = "chat_notify_preference"

    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True)
    customers: Mapped[bool] = mapped_column(default=False)  # a new customer in one of my queues
    messages: Mapped[bool] = mapped_column(default=False)  # a new line in one of my chats
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InternalConversation(Model):
    """A one-to-one chat between two colleagues. The pair is stored once, lower user id first,
    so starting a chat with someone twice finds the same conversation."""

    __tablename__ = "chat_internal_conversation"
    __table_args__ = (UniqueConstraint("first_id", "second_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    first_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"))
    second_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Per participant: shown in their active conversations; has lines they have not read.
    listed_by_first: Mapped[bool] = mapped_column(default=False)
    listed_by_second: Mapped[bool] = mapped_column(default=False)
    unread_by_first: Mapped[bool] = mapped_column(default=False)
    unread_by_second: Mapped[bool] = mapped_column(default=False)

    first = relationship("User", foreign_keys=[first_id])
    second = relationship("User", foreign_keys=[second_id])
    messages: Mapped[list["InternalMessage"]] = relationship(
        back_populates="conversation", order_by="InternalMessage.id", cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def has(self, user):
        return user.id in (self.first_id, self.second_id)

    def other(self, user):
        """The colleague this user chats with."""
        return self.second if user.id == self.first_id else self.first

    def _side(self, user):
        return "first" if user.id == self.first_id else "second"

    def unread_for(self, user):
        return getattr(self, f"unread_by_{self._side(user)}")

    def set_unread(self, user, value):
        setattr(self, f"unread_by_{self._side(user)}", value)

    def listed_for(self, user):
        return getattr(self, f"listed_by_{self._side(user)}")

    def set_listed(self, user, value):
        setattr(self, f"listed_by_{self._side(user)}", value)


class InternalMessage(Model):
    """A line written by a colleague; removed by age (see internal.purge_internal_messages)."""

    __tablename__ = "chat_internal_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("chat_internal_conversation.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    client_key: Mapped[str | None] = mapped_column(String(40))  # as ChatMessage.client_key

    conversation = relationship(InternalConversation, back_populates="messages")
    __table_args__ = (UniqueConstraint("conversation_id", "client_key", name="uq_chat_internal_message_client_key"),)


class QueueTransfer(Model):
    """A served customer moved by the serving agent to another queue, with a note for the next agent.

    `served_at` keeps when service began in the queue left behind: the conversation's own
    served_at starts again in the new queue, and the statistics need both visits."""

    __tablename__ = "chat_queue_transfer"
    __table_args__ = (
        Index("ix_chat_queue_transfer_from_at", "from_queue_id", "transferred_at"),
        Index("ix_chat_queue_transfer_to_at", "to_queue_id", "transferred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("chat_conversation.id", ondelete="CASCADE"), index=True)
    from_queue_id: Mapped[int] = mapped_column(ForeignKey("chat_queue.id"))
    to_queue_id: Mapped[int] = mapped_column(ForeignKey("chat_queue.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    transferred_by_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    agent_name: Mapped[str | None] = mapped_column(String(60))  # the transferring agent, as customers saw them
    transferred_at: Mapped[datetime] = mapped_column(default=utcnow)
    served_at: Mapped[datetime | None]

    conversation = relationship(Conversation, back_populates="transfers")
    from_queue = relationship(ChatQueue, foreign_keys=[from_queue_id])
    to_queue = relationship(ChatQueue, foreign_keys=[to_queue_id])
    transferred_by = relationship("User")


class CannedReply(Model):
    """A ready answer an agent inserts in the message box and edits before sending: a queue's
    (kept by its agents and the service admins) or one agent's own (`owner_id`), never both.
    It has a short name and a text in one or more of the site's languages; {customer},
    {agent} and {queue} are filled in when it is inserted (blueprints/chat/canned.py)."""

    __tablename__ = "chat_canned_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("chat_queue.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    text_fi: Mapped[str] = mapped_column(Text, default="", server_default="")
    text_sv: Mapped[str] = mapped_column(Text, default="", server_default="")
    text_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    text_nl: Mapped[str] = mapped_column(Text, default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    queue = relationship(ChatQueue)
    owner = relationship("User")

    def text(self, language: str) -> str:
        return getattr(self, f"text_{language}", "") or ""


class CannedReplyUse(Model):
    """A canned reply inserted in a message box, for the statistics. `queue_id`: the queue of the
    customer chat it went into; in the internal chat, the reply's own queue (None for a personal
    reply there)."""

    __tablename__ = "chat_canned_reply_use"
    __table_args__ = (Index("ix_chat_canned_reply_use_queue_at", "queue_id", "used_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reply_id: Mapped[int] = mapped_column(ForeignKey("chat_canned_reply.id", ondelete="CASCADE"), index=True)
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("chat_queue.id", ondelete="CASCADE"))
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    used_at: Mapped[datetime] = mapped_column(default=utcnow)

    reply = relationship(CannedReply)
