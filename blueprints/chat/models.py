"""Chat queue: service queues, agents logged in to customer service, conversations, messages."""
import enum
from datetime import datetime

from sqlalchemy import Column, Enum, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import db
from common.clock import utcnow


class ConversationState(enum.StrEnum):
    WAITING = "waiting"
    SERVED = "served"
    ENDED = "ended"
    REMOVED = "removed"


class Sender(enum.StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"


class ChatQueue(db.Model):
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

    unit = relationship("Unit")

    def __str__(self):
        return self.name


agent_session_queue = Table(
    "chat_agent_session_queue",
    db.metadata,
    Column("session_id", ForeignKey("chat_agent_session.id", ondelete="CASCADE"), primary_key=True),
    Column("queue_id", ForeignKey("chat_queue.id", ondelete="CASCADE"), primary_key=True),
)


class AgentSession(db.Model):
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


class Conversation(db.Model):
    """One customer's visit to a queue: waiting, served by one agent, then ended or removed."""

    __tablename__ = "chat_conversation"

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

    queue = relationship(ChatQueue)
    agent = relationship("User")
    messages: Mapped[list["ChatMessage"]] = relationship(
        back_populates="conversation", order_by="ChatMessage.id", cascade="all, delete-orphan"
    )

    @property
    def is_open(self):
        return self.state in (ConversationState.WAITING, ConversationState.SERVED)


class ChatMessage(db.Model):
    """A line in a conversation; system lines store a code and are translated when shown."""

    __tablename__ = "chat_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("chat_conversation.id", ondelete="CASCADE"), index=True)
    sender: Mapped[Sender] = mapped_column(Enum(Sender, native_enum=False, length=10))
    author_name: Mapped[str] = mapped_column(String(60), default="")
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)

    conversation = relationship(Conversation, back_populates="messages")


class AgentSocket(db.Model):
    """A live staff socket of a chat agent. An agent with no row here has no page open; the
    owning server process refreshes seen_at, so rows of a process that died go stale."""

    __tablename__ = "chat_agent_socket"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    connected_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
