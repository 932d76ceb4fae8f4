"""One way to write: write_transaction() (common/transactions.py) commits once at its outermost
level, rolls everything back on a refusal, turns a unique key met at the same moment into a
Conflict and a database that gives no turn in time into Busy, and announces only what was
committed. No service commits by hand."""
import re
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from blueprints.accounts.models import Unit, UnitKind
from common import live
from common.refusals import Busy, Conflict, Refused, status_of
from common.transactions import write_transaction
from extensions import db
from tests.conftest import while_locked

ROOT = Path(__file__).resolve().parent.parent


def units():
    return db.session.scalars(select(Unit.code).order_by(Unit.code)).all()


def add_unit(code):
    db.session.add(Unit(code=code, name=code, kind=UnitKind.LIBRARY))
    db.session.flush()


@pytest.fixture
def commits(app_context):
    counted = []
    listener = lambda session: counted.append(session)  # noqa: E731
    event.listen(db.session(), "after_commit", listener)
    yield counted
    event.remove(db.session(), "after_commit", listener)


def test_nested_write_transactions_commit_once_at_the_outermost_level(commits):
    @write_transaction()
    def inner():
        add_unit("INNER")

    with write_transaction():
        add_unit("OUTER")
        inner()
        assert commits == []  # the inner level joined the outer one
    assert len(commits) == 1
    assert units() == ["INNER", "OUTER"]


def test_a_refusal_inside_rolls_back_what_the_inner_levels_wrote(app_context):
    @write_transaction()
    def inner():
        add_unit("INNER")

    with pytest.raises(Refused):
        with write_transaction():
            inner()
            raise Refused("No.")
    assert units() == []


def test_a_unique_key_met_at_commit_becomes_a_conflict_and_nothing_is_kept(app_context):
    with write_transaction():
        add_unit("TAKEN")
    with pytest.raises(Conflict) as refused:
        with write_transaction():
            db.session.add(Unit(code="OTHER", name="Other", kind=UnitKind.LIBRARY))
            db.session.add(Unit(code="TAKEN", name="Again", kind=UnitKind.LIBRARY))
    assert status_of(refused.value) == 409
    assert units() == ["TAKEN"]


def test_live_events_go_out_after_the_commit_and_never_after_a_rollback(app_context, monkeypatch):
    sent = []
    monkeypatch.setattr(live, "emit_now", lambda name, room, namespace, **data: sent.append((name, data["code"])))
    with write_transaction():
        add_unit("SEEN")
        live.announce("unit-changed", code="SEEN")
        with write_transaction():
            live.announce("unit-changed", code="NESTED")
        assert sent == []  # not before the commit, not at the inner level's end
    assert sent == [("unit-changed", "SEEN"), ("unit-changed", "NESTED")]
    with pytest.raises(Refused):
        with write_transaction():
            live.announce("unit-changed", code="GONE")
            raise Refused("No.")
    with write_transaction():
        add_unit("LATER")
    assert [code for _, code in sent] == ["SEEN", "NESTED"]


def test_a_write_that_gets_no_turn_in_time_is_busy_503(busy_sqlite):
    app, other_writer = busy_sqlite

    def write():
        with write_transaction():
            add_unit("WAITING")

    with app.app_context():
        with pytest.raises(Busy) as refused:
            while_locked(other_writer, write)
        assert status_of(refused.value) == 503
        assert db.session.scalar(select(func.count()).select_from(Unit)) == 0


def test_no_code_of_an_area_commits_by_hand():
    """Every write goes through write_transaction(): a commit() anywhere in blueprints/ is a
    transaction that skips its lock, its conversions or its single commit."""
    by_hand = [f"{path.relative_to(ROOT)}:{number}"
               for path in sorted((ROOT / "blueprints").rglob("*.py"))
               for number, line in enumerate(path.read_text().splitlines(), 1)
               if re.search(r"\.commit\(\)|begin_write\(|commit_record\(", line)]
    assert by_hand == []
