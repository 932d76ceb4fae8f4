"""Retention: transcripts are removed and names anonymised exactly as each queue's setting says,
never sooner, and never from a customer who is still waiting or being served."""
import secrets
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from blueprints.chat import retention
from blueprints.chat.models import (
    ChatMessage,
    ChatQueue,
    Conversation,
    ConversationState,
    InternalConversation,
    InternalMessage,
    QueueTransfer,
    Sender,
)
from common.access import Role
from common.audit import AuditEvent
from common.clock import utcnow
from extensions import db

NOW = datetime(2026, 3, 10, 12, 0, 0)
SECOND = timedelta(seconds=1)


def make_queue(unit_id, keep_days=0, anonymise_after_days=None, name="Neuvonta"):
    queue = ChatQueue(unit_id=unit_id, name=name, is_open=True, keep_days=keep_days,
                      anonymise_after_days=anonymise_after_days)
    db.session.add(queue)
    db.session.commit()
    return queue


def make_chat(queue, name, ended_at=None, state=ConversationState.ENDED, joined_at=None):
    """A chat of `name` with an agent, ended at `ended_at` (or still open in `state`)."""
    joined_at = joined_at or (ended_at or NOW) - timedelta(minutes=20)
    conversation = Conversation(queue=queue, token=secrets.token_urlsafe(16), customer_name=name, state=state,
                                joined_at=joined_at, ended_at=ended_at, agent_name="Aino")
    conversation.messages = [
        ChatMessage(sender=Sender.CUSTOMER, author_name=name, body="Miten uusin lainat?", sent_at=joined_at),
        ChatMessage(sender=Sender.AGENT, author_name="Aino", body=f"Hei {name.split()[0]}! Autan mielelläni.",
                    sent_at=joined_at),
        ChatMessage(sender=Sender.SYSTEM, body="ended", sent_at=joined_at),
    ]
    db.session.add(conversation)
    db.session.commit()
    return conversation.id


def chat(conversation_id):
    conversation = db.session.get(Conversation, conversation_id)
    db.session.refresh(conversation)
    return conversation


def untouched(conversation_id, name):
    c = chat(conversation_id)
    return c.customer_name == name and len(c.messages) == 3 and c.purged_at is None and c.anonymised_at is None


@pytest.fixture
def library(app_context, make_unit):
    return make_unit()


def test_a_transcript_is_removed_only_once_it_ended_more_than_the_kept_days_ago(library):
    queue = make_queue(library, keep_days=7)
    boundary = NOW - timedelta(days=7)
    outside = make_chat(queue, "Toni Outside", ended_at=boundary - SECOND)
    at_boundary = make_chat(queue, "Sara Boundary", ended_at=boundary)
    inside = make_chat(queue, "Pia Inside", ended_at=boundary + SECOND)

    result = retention.purge_queue(queue, NOW)

    assert result.purged == 1
    gone = chat(outside)
    assert gone.messages == [] and gone.customer_name == "" and gone.purged_at == NOW
    assert untouched(at_boundary, "Sara Boundary")
    assert untouched(inside, "Pia Inside")


def test_keep_zero_removes_every_ended_transcript_and_no_open_conversation(library):
    queue = make_queue(library, keep_days=0)
    long_ago = NOW - timedelta(days=400)
    ended = make_chat(queue, "Toni", ended_at=NOW - SECOND)
    removed = make_chat(queue, "Rami", ended_at=NOW - timedelta(hours=1), state=ConversationState.REMOVED)
    waiting = make_chat(queue, "Sara", state=ConversationState.WAITING, joined_at=long_ago)
    served = make_chat(queue, "Pia", state=ConversationState.SERVED, joined_at=long_ago)

    assert retention.purge_queue(queue, NOW).purged == 2

    assert chat(ended).messages == [] and chat(removed).messages == []
    assert untouched(waiting, "Sara") and untouched(served, "Pia")


def test_names_are_anonymised_after_the_set_days_and_the_transcript_is_kept(library):
    queue = make_queue(library, keep_days=30, anonymise_after_days=7)
    boundary = NOW - timedelta(days=7)
    old = make_chat(queue, "Toni Virtanen", ended_at=boundary - SECOND)
    at_boundary = make_chat(queue, "Sara", ended_at=boundary)
    too_old = make_chat(queue, "Pia", ended_at=NOW - timedelta(days=31))

    result = retention.purge_queue(queue, NOW)

    assert (result.purged, result.anonymised) == (1, 1)
    c = chat(old)
    assert c.customer_name == "" and c.anonymised_at == NOW and c.purged_at is None
    customer_line, agent_line, system_line = c.messages
    assert customer_line.author_name == "" and customer_line.body == "Miten uusin lainat?"
    assert agent_line.author_name == "Aino" and agent_line.body == "Hei ***! Autan mielelläni."
    assert system_line.body == "ended"
    assert untouched(at_boundary, "Sara")
    assert chat(too_old).purged_at == NOW


def test_a_second_run_finds_nothing_more_to_do(library):
    queue = make_queue(library, keep_days=10, anonymise_after_days=2)
    purged = make_chat(queue, "Toni", ended_at=NOW - timedelta(days=11))
    anonymised = make_chat(queue, "Sara", ended_at=NOW - timedelta(days=3))

    first = retention.purge_queue(queue, NOW)
    second = retention.purge_queue(queue, NOW)

    assert (first.purged, first.anonymised) == (1, 1)
    assert (second.purged, second.anonymised) == (0, 0)
    assert chat(purged).purged_at == NOW and chat(anonymised).anonymised_at == NOW


def test_a_dry_run_counts_the_same_and_changes_nothing(library):
    queue = make_queue(library, keep_days=10, anonymise_after_days=2)
    purged = make_chat(queue, "Toni", ended_at=NOW - timedelta(days=11))
    anonymised = make_chat(queue, "Sara", ended_at=NOW - timedelta(days=3))

    dry = retention.purge_queue(queue, NOW, dry_run=True)

    assert (dry.purged, dry.anonymised) == (1, 1)
    assert untouched(purged, "Toni") and untouched(anonymised, "Sara")


def test_work_is_committed_batch_by_batch(library, monkeypatch):
    monkeypatch.setattr(retention, "BATCH_SIZE", 2)
    queue = make_queue(library, keep_days=1)
    ids = [make_chat(queue, f"C{i}", ended_at=NOW - timedelta(days=2, minutes=i)) for i in range(5)]
    batches = []
    purge_batch = retention._purge_batch

    def third_fails(batch, now):
        batches.append(batch)
        purge_batch(batch, now)
        if len(batches) == 3:
            raise RuntimeError("the process stopped")

    monkeypatch.setattr(retention, "_purge_batch", third_fails)
    with pytest.raises(RuntimeError):
        retention.purge_queue(queue, NOW)

    assert [len(batch) for batch in batches] == [2, 2, 1]
    db.session.expire_all()
    purged = {i for i in ids if chat(i).purged_at == NOW}
    assert purged == set(batches[0] + batches[1])  # the two batches before stay done, the third is undone

    monkeypatch.setattr(retention, "_purge_batch", purge_batch)
    assert retention.purge_queue(queue, NOW).purged == 1  # a rerun does the rest
    assert all(chat(i).purged_at == NOW for i in ids)


def test_each_queue_follows_its_own_setting(library):
    short = make_queue(library, keep_days=1, name="A short")
    long = make_queue(library, keep_days=90, name="B long")
    in_short = make_chat(short, "Toni", ended_at=NOW - timedelta(days=5))
    in_long = make_chat(long, "Sara", ended_at=NOW - timedelta(days=5))

    results, internal_messages = retention.purge(NOW)

    assert [(r.queue.name, r.purged) for r in results] == [("A short", 1), ("B long", 0)]
    assert internal_messages == 0
    assert chat(in_short).purged_at == NOW and untouched(in_long, "Sara")


def test_a_transfer_note_goes_with_the_transcript_and_loses_the_name_when_anonymised(library, make_user):
    aino = make_user("aino", (Role.CHAT_AGENT, library))
    queue = make_queue(library, keep_days=10, anonymise_after_days=2)
    other = make_queue(library, name="Tietokoneopastus")
    anonymised = make_chat(queue, "Toni Virtanen", ended_at=NOW - timedelta(days=3))
    purged = make_chat(queue, "Sara", ended_at=NOW - timedelta(days=11))
    for conversation_id, note in ((anonymised, "Toni kysyy e-kirjoista"), (purged, "Sara haluaa lainata")):
        db.session.add(QueueTransfer(conversation_id=conversation_id, from_queue_id=other.id, to_queue_id=queue.id,
                                     note=note, transferred_by_id=aino, transferred_at=NOW - timedelta(days=20)))
    db.session.commit()

    retention.purge_queue(queue, NOW)

    notes = dict(db.session.execute(select(QueueTransfer.conversation_id, QueueTransfer.note)).all())
    assert notes == {anonymised: "*** kysyy e-kirjoista", purged: ""}  # the transfer itself stays for the statistics


def test_internal_messages_go_by_their_own_retention(app, library, make_user):
    first, second = (make_user(name, (Role.CHAT_AGENT, library)) for name in ("aino", "erja"))
    cutoff = NOW - timedelta(days=app.config["CHAT_INTERNAL_RETENTION_DAYS"])
    chat = InternalConversation(first_id=first, second_id=second, started_at=cutoff - timedelta(days=1))
    chat.messages = [InternalMessage(author_id=first, author_name="Aino", body="vanha", sent_at=cutoff - SECOND),
                     InternalMessage(author_id=second, author_name="Erja", body="rajalla", sent_at=cutoff)]
    db.session.add(chat)
    db.session.commit()

    assert retention.purge(NOW, dry_run=True)[1] == 1
    assert retention.purge(NOW)[1] == 1

    assert db.session.scalars(select(InternalMessage.body)).all() == ["rajalla"]


def test_the_command_reports_per_queue_and_writes_an_audit_event(app, runner, make_unit):
    with app.app_context():
        library = make_unit()
        queue = make_queue(library, keep_days=7, anonymise_after_days=1)
        queue_id = queue.id
        now = utcnow()
        old = make_chat(queue, "Toni", ended_at=now - timedelta(days=8))
        recent = make_chat(queue, "Sara", ended_at=now - timedelta(days=2))
        fresh = make_chat(queue, "Pia", ended_at=now - timedelta(hours=1))
        waiting = make_chat(queue, "Rami", state=ConversationState.WAITING, joined_at=now - timedelta(days=30))

    dry = runner.invoke(args=["chat", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Neuvonta" in dry.output and "would remove 1 transcript(s), would anonymise 1 customer name(s)" in dry.output
    assert "Dry run: nothing was changed." in dry.output

    result = runner.invoke(args=["chat", "purge"])
    assert result.exit_code == 0, result.output
    assert f"Neuvonta (#{queue_id}, kept 7 d): removed 1 transcript(s), anonymised 1 customer name(s)" in result.output

    again = runner.invoke(args=["chat", "purge"])
    assert "removed 0 transcript(s), anonymised 0 customer name(s)" in again.output

    with app.app_context():
        assert chat(old).purged_at is not None
        assert chat(recent).anonymised_at is not None and chat(recent).purged_at is None
        assert untouched(fresh, "Pia") and untouched(waiting, "Rami")
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "chat.purged")
                                    .order_by(AuditEvent.id)).all()
        assert len(events) == 2  # the two real runs; the dry run writes nothing
        assert events[0].detail["queues"][str(queue_id)] == {"purged": 1, "anonymised": 1}
