"""The background jobs: each round done once however many workers run, the nightly purge at
night, and the worker as its own process (mail delivered, SIGTERM obeyed)."""
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from datetime import datetime, timedelta

from sqlalchemy import select

import jobs
from common.mail import OutboxMail
from extensions import db
from tests.conftest import TEST_IDENTITY_ENCRYPTION_KEY, eventually, free_port, in_threads


def counting_jobs(monkeypatch, done):
    """The real schedule, with each job replaced by one that notes it ran."""
    replaced = [jobs.Job(job.name, job.next_after, lambda now, name=job.name: done.append(name), job.first_now)
                for job in jobs.JOBS]
    monkeypatch.setattr(jobs, "JOBS", replaced)


def test_two_workers_looking_at_the_same_moment_do_each_round_once(app, monkeypatch):
    done = []
    counting_jobs(monkeypatch, done)
    now = datetime(2026, 12, 1, 20, 0)  # 22:00 in Helsinki; the sixth round is at 03:00 there
    with app.app_context():
        jobs._register(now)
    rounds = 6
    start = threading.Barrier(2)

    def worker():
        for n in range(rounds):
            with app.app_context():
                start.wait()
                jobs.run_due(now + timedelta(seconds=3600 * n))
                db.session.remove()

    in_threads(worker, [()] * 2)
    # Mail and the chat sweeps are due every hour; the purge once, at night.
    assert done.count("mail") == rounds
    assert done.count("chat-sweeps") == rounds
    assert done.count("nightly-purge") == 1


def test_a_job_is_not_run_again_before_its_interval(app, monkeypatch):
    done = []
    counting_jobs(monkeypatch, done)
    now = datetime(2026, 12, 1, 12, 0)
    with app.app_context():
        jobs._register(now)
        assert jobs.run_due(now) == ["mail", "chat-sweeps"]
        assert jobs.run_due(now + timedelta(seconds=1)) == []
        later = now + timedelta(seconds=app.config["CHAT_SWEEP_SECONDS"])
        assert jobs.run_due(later) == ["chat-sweeps"]


def test_the_nightly_purge_waits_for_three_at_night_in_the_library_time_zone(app):
    with app.app_context():
        # 22:30 UTC on 1 December is 00:30 in Helsinki: next due at 03:00 Helsinki, 01:00 UTC.
        assert jobs.nightly(datetime(2026, 12, 1, 22, 30)) == datetime(2026, 12, 2, 1, 0)
        # 02:00 UTC is 04:00 in Helsinki: the next night.
        assert jobs.nightly(datetime(2026, 12, 2, 2, 0)) == datetime(2026, 12, 3, 1, 0)
        # Summer time: 03:00 in Helsinki is 00:00 UTC.
        assert jobs.nightly(datetime(2026, 6, 30, 12, 0)) == datetime(2026, 7, 1, 0, 0)


def process_env(app, smtp_server):
    return dict(
        os.environ,
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://"),
        SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_server.port),
        SECRET_KEY="test-secret", IDENTITY_HMAC_KEY="00" * 32, IDENTITY_ENCRYPTION_KEY=TEST_IDENTITY_ENCRYPTION_KEY,
    )


def queue_a_due_mail(app, subject):
    with app.app_context():
        db.session.add(OutboxMail(recipient="aino@example.org", subject=subject, body="Sent in the background",
                                  status="pending"))
        db.session.commit()


def test_the_worker_process_delivers_due_mail_and_stops_on_sigterm(app, smtp_server):
    queue_a_due_mail(app, "Retry")
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"],
                              env=process_env(app, smtp_server),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        mails = smtp_server.wait_for(1, timeout=30)
        assert mails[0]["Subject"] == "Retry"

        def sent():
            with app.app_context():
                return db.session.scalar(select(OutboxMail.status)) == "sent"
        assert eventually(sent)
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, output
    assert "Worker: stopped." in output


def test_make_runs_server_runs_the_jobs_in_its_one_process(app, smtp_server):
    queue_a_due_mail(app, "From serve")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "serve", "--port", str(port)],
                              env=dict(process_env(app, smtp_server), DEVELOPMENT="1"),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert smtp_server.wait_for(1, timeout=30)[0]["Subject"] == "From serve"
        def answers():
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200
            except OSError:
                return False
        assert eventually(answers, timeout=20)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert "Traceback" not in output, output
