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
    ended_at: Mapped[datetime | None]
    unread_by_agent: Mapped[bool] = mapped_column(default=False)
    unread_by_customer: Mapped[bool] = mapped_column(default=False)

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
