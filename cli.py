"""App-wide commands: serving the site, the background worker, backups, demo data, the mail outbox
and the encryption key.

Each area's own commands (units, users, chat purge) live in its blueprint's cli.py.
"""
import importlib
import signal
import sqlite3
import threading
from pathlib import Path

import click
from cryptography.fernet import Fernet
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from werkzeug.serving import run_simple

import jobs
from blueprints.accounts import demo as accounts_demo
from blueprints.accounts.models import User
from common import crypto, mail
from common.transactions import write_transaction
from extensions import AREAS, db


def seed_demo_data():
    """Create the demo units and staff, then each area's demo records, in one transaction: a
    seed that fails half-way leaves nothing, so `--if-empty` seeds again. Returns the passwords
    and the settings that name demo records (an area's seed() may return some, e.g. the Celia
    service's chat queue). (It runs before the site starts, so the password hashing may hold the lock.)"""
    settings = {}
    with write_transaction():
        units, passwords = accounts_demo.seed_staff()
        for area in AREAS:
            if area == "accounts":
                continue
            try:
                demo = importlib.import_module(f"blueprints.{area}.demo")
            except ModuleNotFoundError:
                continue
            settings.update(demo.seed(units) or {})
    return passwords, settings


def write_instance_settings(settings, path):
    """Set `settings` in the instance's configuration file (instance/config.py, which the site
    reads when it starts; an environment variable still wins): a line of the same setting is
    replaced, the rest of the file kept."""
    lines = path.read_text().splitlines() if path.exists() else []
    kept = [line for line in lines if line.split("=")[0].strip() not in settings]
    if not any(line.startswith("# Written by `flask seed-demo`") for line in kept):
        kept.append("# Written by `flask seed-demo`: settings that name the demo's records.")
    kept += [f"{name} = {value!r}" for name, value in settings.items()]
    path.write_text("\n".join(kept) + "\n")


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing when there are staff accounts already.")
def seed_demo_command(if_empty):
    """Fill an empty database with demo units, staff and records; prints the passwords once."""
    if db.session.scalar(select(User.id).limit(1)) is not None:
        if if_empty:
            click.echo("Demo data: the database has accounts already; nothing added.")
            return
        raise click.UsageError("the database has accounts already")
    passwords, settings = seed_demo_data()
    click.echo("Demo accounts (the passwords are shown only now):")
    for username, _display_name, _language, roles in accounts_demo.DEMO_STAFF:
        role_names = ", ".join(f"{r.value}@{c}" if c else r.value for r, c in roles)
        click.echo(f"  {username:<14} {passwords[username]:<22} {role_names}")
    # For the server that `make run` starts next; a test's app writes nothing to instance/ (see create_app).
    if settings and not current_app.testing:
        path = Path(current_app.instance_path) / "config.py"
        write_instance_settings(settings, path)
        click.echo(f"Demo settings written to {path}: " + ", ".join(f"{k} = {v!r}" for k, v in settings.items()))


@click.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def serve_command(host, port):
    """Serve the site with Socket.IO on the development server (`make run`), with the
    background jobs in the same process. Production: gunicorn and `worker` (deploy/)."""
    app = current_app._get_current_object()
    jobs.start_in_background(app)
    click.echo(f"Serving on http://{host}:{port}")
    # Flask's CLI refuses app.run() inside a command, so serve through Werkzeug directly;
    # Socket.IO rides on it in threading mode (simple-websocket for WebSocket).
    run_simple(host, port, app, threaded=True)


@click.command("worker")
@with_appcontext
def worker_command():
    """Run the background jobs (mail delivery, chat sweeps, nightly purges) until SIGTERM;
    a round under way is finished first. Any number of workers may run: each round runs once."""
    stop = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stop.set())
    click.echo("Worker: running the background jobs; SIGTERM stops it.")
    jobs.run_until(current_app._get_current_object(), stop)
    click.echo("Worker: stopped.")


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False))
def backup_command(path):
    """Copy the embedded SQLite database to PATH while the site runs. SQLite's online backup
    copies one consistent state, whatever is written meanwhile. (PostgreSQL: pg_dump, see the README.)"""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.UsageError(
            "the database is not the embedded SQLite one: back PostgreSQL up with pg_dump (see the README)"
        )
    source, target = sqlite3.connect(url.database), sqlite3.connect(path)
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()
    click.echo(f"Backed up {url.database} to {path}.")


mail_cli = AppGroup("mail", help="The mail outbox.")


@mail_cli.command("deliver")
def deliver_command():
    """Send every mail that is due now (safe to run from cron)."""
    sent = mail.deliver_due()
    click.echo(f"Sent {sent} mail(s).")


keys_cli = AppGroup("keys", help="The encryption key of identity codes, IBANs and receipts' passwords.")


@keys_cli.command("rotate")
@click.option("--new-key", help="The new Fernet key (default: a new one is generated).")
def rotate_keys_command(new_key):
    """Re-encrypt every encrypted value with a new IDENTITY_ENCRYPTION_KEY. Stop the site first;
    start it again with the new key."""
    app = current_app._get_current_object()
    old_key = app.config["IDENTITY_ENCRYPTION_KEY"]
    new_key = new_key or Fernet.generate_key().decode()
    Fernet(new_key.encode())  # a key that is no Fernet key stops here, before any change
    count = crypto.rotate_key(new_key)
    click.echo(f"Re-encrypted {count} value(s) with the new key.")
    if crypto.store_key_if_generated(app, old_key, new_key):
        click.echo("The new key is stored in instance/secrets.json.")
    else:
        click.echo("Set IDENTITY_ENCRYPTION_KEY to the new key before starting the site again:")
        click.echo(new_key)


def init_app(app):
    for command in (seed_demo_command, serve_command, worker_command, backup_command, mail_cli, keys_cli):
        app.cli.add_command(command)
