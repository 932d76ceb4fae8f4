"""Background jobs: mail delivery with back-off, the chat sweeps, the nightly purges.

In production they run in one process of their own, `flask --app app worker` (deploy/), so
that N web processes do not each run them; `make run` runs them inside its one process.

Each job has a row in scheduled_job with the time it is next due. A worker takes a round by a
conditional UPDATE of that time (still due? then it is mine), so of any number of workers
exactly one does each round, and a restart does not repeat the night's purge. On PostgreSQL
the round also runs under an advisory lock, so that a round slower than its interval is never
run twice at the same time. Every job is itself safe to repeat (mails and agents are claimed
by conditional updates, a purge finds nothing done twice).
"""
import threading
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import String, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from blueprints.chat import retention, staffing
from common import mail
from common.clock import utcnow
from common.transactions import write_transaction
from extensions import Model, db

TICK_SECONDS = 1.0  # how often a worker looks for due jobs


class ScheduledJob(Model):
    __tablename__ = "scheduled_job"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_run_at: Mapped[datetime]
    last_run_at: Mapped[datetime | None]


def every(setting):
    """Due again `setting` seconds after a round starts."""
    return lambda now: now + timedelta(seconds=current_app.config[setting])


def nightly(now):
    """Due again at the next NIGHTLY_JOBS_HOUR o'clock in the library's time zone."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    local = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
    at = local.replace(hour=current_app.config["NIGHTLY_JOBS_HOUR"], minute=0, second=0, microsecond=0)
    if at <= local:
        at += timedelta(days=1)  # the same wall-clock hour, across a change of summer time
    return at.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def purge(now):
    retention.purge(now)


@dataclass(frozen=True)
class Job:
    name: str
    next_after: object  # now -> when the job is due again
    run: object  # now -> None
    first_now: bool = True  # due at once on a new database (the nightly one waits for the night)


JOBS = [
    Job("mail", every("MAIL_RETRY_SECONDS"), lambda now: mail.deliver_due(now)),
    Job("chat-sweeps", every("CHAT_SWEEP_SECONDS"), staffing.sweep),
    Job("nightly-purge", nightly, purge, first_now=False),
]


@write_transaction()
def _register(now):
    """Every job has its row (two workers starting at once add it once)."""
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    rows = [{"name": job.name, "next_run_at": now if job.first_now else job.next_after(now)} for job in JOBS]
    db.session.execute(insert(ScheduledJob).values(rows).on_conflict_do_nothing(index_elements=["name"]))


@write_transaction()
def claim(job, now):
    """Take this round of the job if it is still due: True for exactly one worker."""
    taken = db.session.execute(
        update(ScheduledJob)
        .where(ScheduledJob.name == job.name, ScheduledJob.next_run_at <= now)
        .values(next_run_at=job.next_after(now), last_run_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return taken == 1


class _AdvisoryLock:
    """PostgreSQL: a session advisory lock held on a connection of its own for the round, not
    the ORM session's: the round's write transactions commit, and would end a lock of theirs."""

    def __init__(self, name):
        self.key = zlib.crc32(f"library-desk job {name}".encode())
        self.connection = None

    def __enter__(self):
        if db.engine.dialect.name != "postgresql":
            return True
        self.connection = db.engine.connect()
        got = self.connection.scalar(select(func.pg_try_advisory_lock(self.key)))
        # A raw commit on this connection of its own (no write_transaction: nothing of the
        # session's): the lock outlives it, and the connection does not idle in a transaction.
        self.connection.commit()
        return got

    def __exit__(self, *exc):
        if self.connection is not None:
            self.connection.scalar(select(func.pg_advisory_unlock(self.key)))
            self.connection.commit()
            self.connection.close()


def run_due(now=None):
    """Run every job whose time has come and that this worker claims. Returns their names."""
    now = now or utcnow()
    due = set(db.session.scalars(select(ScheduledJob.name).where(ScheduledJob.next_run_at <= now)))
    done = []
    for job in JOBS:
        if job.name not in due:
            continue
        with _AdvisoryLock(job.name) as locked:
            if not locked or not claim(job, now):
                continue
            try:
                job.run(now)
            except Exception:  # noqa: BLE001 - a failed round must not stop the others
                db.session.rollback()
                current_app.logger.exception("job %s failed", job.name)
            else:
                done.append(job.name)
            finally:
                db.session.remove()
    return done


def run_until(app, stop):
    """Run due jobs every TICK_SECONDS until `stop` is set; a round under way is finished."""
    registered = False
    while not stop.is_set():
        with app.app_context():
            try:
                if not registered:  # e.g. started before the migrations: try again next tick
                    _register(utcnow())
                    registered = True
                run_due()
            except Exception:  # noqa: BLE001 - e.g. the database restarting: try again next tick
                app.logger.exception("looking for due jobs failed")
            finally:
                db.session.remove()
        stop.wait(TICK_SECONDS)


def start_in_background(app):
    """For `make run`: the jobs in a thread of the one server process."""
    stop = threading.Event()
    threading.Thread(target=run_until, args=(app, stop), name="jobs", daemon=True).start()
    return stop
