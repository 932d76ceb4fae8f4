"""Write transactions that do not fail under concurrency.

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

from sqlalchemy import event
from sqlalchemy.engine import Engine

from extensions import db

IMMEDIATE = "library_desk_immediate"  # a Connection execution option: this transaction writes
# PostgreSQL's codes for a write that lost a race it may simply retry: serialization failure,
# deadlock detected, lock not available.
RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}


def begin_write():
    """Start the write transaction of this request or job. What was read until now is done
    with (nothing may have been written yet): objects loaded before are read again, under the
    lock, when next used."""
    session = db.session()
    if session.in_transaction():
        session.commit()
    else:
        session.expire_all()  # kept loaded by an earlier commit_record()
    session.connection(execution_options={IMMEDIATE: True})


def commit_record():
    """Commit a transaction that only added a record (an audit event) and changed nothing loaded:
    the loaded objects (the user, the unit, the customer) stay as they are instead of being read
    again when the answer is rendered (three queries more for an identity-code check)."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def is_busy(error):
    """An OperationalError that means "not your turn in time", not a broken database."""
    cause = getattr(error, "orig", error)
    if isinstance(cause, sqlite3.OperationalError):
        return "locked" in str(cause) or "busy" in str(cause)
    return getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES


def sqlite_engine_options(config):
    """The busy timeout: how long a write waits for the lock before the user is asked to try again."""
    options = dict(config["SQLALCHEMY_ENGINE_OPTIONS"])
    options["connect_args"] = {**options.get("connect_args", {}), "timeout": config["SQLITE_BUSY_TIMEOUT_SECONDS"]}
    return options


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, connection_record):
    """The embedded SQLite default: a write-ahead log lets pages read while one request writes,
    and in that mode syncing at checkpoints instead of at every commit still survives a crash
    of the server process (only a power cut can lose the last commits)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@event.listens_for(Engine, "begin")
def _begin(connection):
    """A write transaction on SQLite takes the write lock now; the driver sees the transaction
    open and begins none of its own."""
    if connection.dialect.name == "sqlite" and connection.get_execution_options().get(IMMEDIATE):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def init_app(app):
    """Before db.init_app: the engine is made with these options."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = sqlite_engine_options(app.config)
