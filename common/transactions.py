"""Write transactions: one construct, `write_transaction()`, for every function that changes state.

    @write_transaction()            # the whole function is one transaction
    def claim(conversation_id, user): ...

    def change_password(user, new):
        hashed = hash_password(new)  # slow work before the transaction, not inside it
        with write_transaction():
            ...

What it does, so that no service function does it by hand:
- at the outermost level it ends the reads before it and takes the write lock where the
  database needs one (begin_write(), below);
- nested use joins the transaction around it: only the outermost level commits, once;
- a refusal or any other error raised inside rolls the whole transaction back (a refusal is
  raised before anything changes, so a caller that catches one may go on writing);
- an integrity error (a unique key met at the same moment by another save) becomes a
  `Conflict`, a database that did not give its turn in time (or a pool with no free
  connection) becomes `Busy`, the "save again" answer (503, the form kept);
- the live events and mail queued meanwhile go out after the commit (common/live.py,
  common/mail.py listen for it), and none of them after a rollback.

Why the lock:

On the embedded SQLite database only one transaction writes at a time. A save that reads what
it checks (a free card number, a duplicate) and then writes must hold the write lock from its
first read: otherwise its checks may be stale, and the slower it is, the likelier another save
times out waiting behind it ("database is locked"). So a write transaction starts with
begin_write(), which on SQLite emits BEGIN IMMEDIATE from SQLAlchemy's "begin" event (the event
SQLAlchemy's pysqlite notes use for their own BEGIN): writers wait their turn, up to
SQLITE_BUSY_TIMEOUT_SECONDS, and read under the lock. Every other transaction keeps the
driver's own behaviour, which begins at the first write; its reads hold no snapshot that a
later write could find stale. Readers never wait in write-ahead-log mode.

On PostgreSQL begin_write() only ends the reads before it; row locks make writers wait there.

Nothing slow belongs inside a write transaction (password hashing, rendering, mail): do it
before begin_write() or after the commit, so that the lock is held for milliseconds. A write
that still does not get its turn is answered with the form kept and "save again"
(common/views.py), never a 500.
"""
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Config, Flask, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, SessionTransaction

from common.refusals import Busy, Conflict
from extensions import db

TURN = "library_desk_writer_turn"  # session.info: the SQLite writers' lock this transaction holds
IMMEDIATE = "library_desk_immediate"  # a Connection execution option: this transaction writes
# PostgreSQL's codes for a write that lost a race it may simply retry: serialization failure,
# deadlock detected, lock not available.
RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}


DEPTH = "library_desk_write_depth"  # session.info: how many write_transaction() levels are open
SAME_MOMENT_MESSAGE = _l("Someone else saved a change to this at the same moment, and nothing of yours was saved. "
                         "Look at how it stands now and try again.")


@contextmanager
def write_transaction(keep_loaded: bool = False) -> Iterator[Session]:
    """One write transaction (see the module's docstring); a decorator too: @write_transaction().

    `keep_loaded`: the transaction only adds records (an audit event) and changes nothing
    loaded, so it needs no lock and the loaded objects stay as they are after the commit
    (the identity-code check renders its answer without reading the user and unit again)."""
    session = db.session()
    depth = session.info.get(DEPTH, 0)
    if depth:
        yield session  # joins the transaction around it, which commits
        return
    session.info[DEPTH] = 1
    try:
        try:
            if not keep_loaded:
                begin_write()
            yield session
            if keep_loaded:
                commit_record()
            else:
                session.commit()
        except BaseException:
            session.rollback()
            raise
    except IntegrityError as error:
        raise Conflict(SAME_MOMENT_MESSAGE) from error
    except PoolTimeout as error:
        raise Busy() from error
    except OperationalError as error:
        if not is_busy(error):
            raise
        raise Busy() from error
    finally:
        session.info.pop(DEPTH, None)
        _end_turn(session)


def in_write_transaction() -> bool:
    return bool(db.session().info.get(DEPTH))


def begin_write() -> None:
    """Start the write transaction of this request or job. What was read until now is done
    with (nothing may have been written yet): objects loaded before are read again, under the
    lock, when next used. On SQLite the writers of this process queue for their turn first,
    holding no database connection meanwhile (see _WriterQueue)."""
    session = db.session()
    if session.in_transaction():
        session.commit()
    else:
        session.expire_all()  # kept loaded by an earlier commit_record()
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        _writers(bind.engine).wait_for_turn(session)
    session.connection(execution_options={IMMEDIATE: True})


class _WriterQueue:
    """SQLite writes one transaction at a time. Writers that waited for that inside SQLite would
    each hold a pooled connection meanwhile: 20 saves at once emptied the pool, and the next
    request waited for a connection until the pool's timeout (a 500, later a 503). So a writer
    of this process waits here, with no connection, and takes one only when its turn comes;
    BEGIN IMMEDIATE still orders it against other processes (a CLI command, the worker)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def wait_for_turn(self, session: Session) -> None:
        if not self.lock.acquire(timeout=current_app.config["SQLITE_BUSY_TIMEOUT_SECONDS"]):
            raise Busy()
        session.info[TURN] = self.lock


_queues: dict[URL, _WriterQueue] = {}
_queues_lock = threading.Lock()


def _writers(engine: Engine) -> _WriterQueue:
    with _queues_lock:
        return _queues.setdefault(engine.url, _WriterQueue())


@event.listens_for(Session, "after_transaction_end")
def _end_turn(session: Session, transaction: SessionTransaction | None = None) -> None:
    """The next writer's turn comes when this write transaction ends, however it ends."""
    if transaction is not None and transaction.parent is not None:
        return  # a savepoint's end: the transaction goes on
    lock = session.info.pop(TURN, None)
    if lock is not None:
        lock.release()


def commit_record() -> None:
    """Commit a transaction that only added a record (an audit event) and changed nothing loaded:
    the loaded objects (the user, the unit, the customer) stay as they are instead of being read
    again when the answer is rendered (three queries more for an identity-code check)."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def is_busy(error: Exception) -> bool:
    """An OperationalError that means "not your turn in time", not a broken database."""
    cause = getattr(error, "orig", error)
    if isinstance(cause, sqlite3.OperationalError):
        return "locked" in str(cause) or "busy" in str(cause)
    return getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES


def end_reads() -> None:
    """Before slow work (password hashing): end the reads so far, so that no pooled connection
    waits idle through it (70 signups hashing at once held every connection of the pool, and the
    next request timed out waiting for one). The loaded objects stay loaded; the write
    transaction after the slow work reads them again under its lock."""
    session = db.session()
    if session.info.get(DEPTH) or not session.in_transaction():
        return  # inside a write transaction the lock is held anyway: hash before it
    if not (session.new or session.dirty or session.deleted):
        commit_record()


def sqlite_engine_options(config: Config) -> dict[str, Any]:
    """The busy timeout: how long a write waits for the lock before the user is asked to try
    again. And a pool that fits every thread: a connection to the embedded file costs next to
    nothing, and a request must never wait for one behind others' work."""
    options = dict(config["SQLALCHEMY_ENGINE_OPTIONS"])
    if config["SQLALCHEMY_DATABASE_URI"] not in ("sqlite://", "sqlite:///:memory:"):  # in memory: one connection
        options.setdefault("pool_size", 10)
        options.setdefault("max_overflow", -1)
    options["connect_args"] = {**options.get("connect_args", {}), "timeout": config["SQLITE_BUSY_TIMEOUT_SECONDS"]}
    return options


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    """The embedded SQLite default: a write-ahead log lets pages read while one request writes,
    and in that mode syncing at checkpoints instead of at every commit still survives a crash
    of the server process (only a power cut can lose the last commits)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@event.listens_for(Engine, "begin")
def _begin(connection: Connection) -> None:
    """A write transaction on SQLite takes the write lock now; the driver sees the transaction
    open and begins none of its own."""
    if connection.dialect.name == "sqlite" and connection.get_execution_options().get(IMMEDIATE):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def init_app(app: Flask) -> None:
    """Before db.init_app: the engine is made with these options."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = sqlite_engine_options(app.config)
