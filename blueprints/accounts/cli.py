"""Provisioning commands: units, users, demo data, and serving the site."""
import importlib
import secrets
import sys

import click
from werkzeug.serving import run_simple
from flask import current_app
from sqlalchemy import select

from app import AREAS, LANGUAGES, db, socketio
from blueprints.accounts import bp, service
from blueprints.accounts.models import Unit, UnitKind, User
from common import mail
from common.access import Role


def _read_password(username):
    if sys.stdin.isatty():
        return click.prompt(f"Password for {username}", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\n")


@bp.cli.group("units")
def units_cli():
    """Manage units."""


@units_cli.command("create")
@click.argument("code")
@click.argument("name")
@click.option("--kind", type=click.Choice([k.value for k in UnitKind]), required=True)
@click.option("--branch-code", help="Four digits; required for a branch.")
def create_unit_command(code, name, kind, branch_code):
    """Create a unit: a library, school, higher-education institution or branch."""
    if kind == UnitKind.BRANCH and not (branch_code and branch_code.isdigit() and len(branch_code) == 4):
        raise click.UsageError("a branch needs --branch-code with four digits")
    if db.session.scalar(select(Unit).where(Unit.code == code)):
        raise click.UsageError(f"a unit with code {code} exists")
    unit = service.create_unit(code, name, UnitKind(kind), branch_code)
    click.echo(f"Created unit {unit.code} ({unit.name}, {unit.kind.value}).")


@bp.cli.group("users")
def users_cli():
    """Manage staff accounts."""


@users_cli.command("create")
@click.argument("username")
@click.option("--name", "display_name", help="Display name (default: the username).")
@click.option("--email", default=None)
@click.option("--role", "roles", multiple=True, type=click.Choice([r.value for r in Role]), required=True)
@click.option("--unit", "unit_codes", multiple=True, help="Unit code; one per --role, or one for all.")
@click.option("--language", type=click.Choice(list(LANGUAGES)), default="fi")
def create_user_command(username, display_name, email, roles, unit_codes, language):
    """Create a staff account; the password is read from a prompt, or from stdin."""
    if service.find_user(username):
        raise click.UsageError(f"user {username} exists")
    if unit_codes and len(unit_codes) not in (1, len(roles)):
        raise click.UsageError("give one --unit for all roles or one per --role")
    units = []
    for code in unit_codes:
        unit = db.session.scalar(select(Unit).where(Unit.code == code))
        if unit is None:
            raise click.UsageError(f"no unit with code {code}")
        units.append(unit)
    if len(units) == 1:
        units = units * len(roles)
    pairs = list(zip([Role(r) for r in roles], units or [None] * len(roles)))
    for role, unit in pairs:
        if role != Role.SERVICE_ADMIN and unit is None:
            raise click.UsageError(f"the role {role.value} needs --unit")
    password = _read_password(username)
    problems = service.password_problems(password, username)
    if problems:
        raise click.UsageError(" ".join(str(p) for p in problems))
    user = service.create_user(
        username, display_name or username, email or f"{username}@library.invalid", language, password, pairs
    )
    click.echo(f"Created user {user.username} with roles {', '.join(roles)}.")


# The demo staff: username, display name, language, roles as (role, unit code).
DEMO_STAFF = [
    ("admin", "Sirpa Celia", "fi", [(Role.SERVICE_ADMIN, None)]),
    ("paakayttaja", "Paula Pääkäyttäjä", "fi", [(Role.MAIN_USER, "HKI-LIB"), (Role.REGISTRAR, "HKI-LIB")]),
    ("rekisteroija", "Riikka Rekisteröijä", "fi", [(Role.REGISTRAR, "HKI-LIB")]),
    ("kollega", "Kalle Kollega", "fi", [(Role.REGISTRAR, "HKI-LIB")]),
    ("koulu", "Kaisa Koulu", "sv", [(Role.REGISTRAR, "KALLIO-SCH")]),
    ("balie", "Bert Balie", "nl", [(Role.COUNTER_STAFF, "GIETEN")]),
    ("agentti", "Aino Asiakaspalvelu", "fi", [(Role.CHAT_AGENT, "HKI-LIB")]),
    ("agentti2", "Erja Asiakaspalvelu", "fi", [(Role.CHAT_AGENT, "HKI-LIB")]),
    ("opastaja", "Olli Opastaja", "fi", [(Role.GUIDE, "HKI-LIB")]),
]
DEMO_UNITS = [
    ("HKI-LIB", "Helsingin kaupunginkirjasto", UnitKind.LIBRARY, None),
    ("KALLIO-SCH", "Kallion koulu", UnitKind.SCHOOL, None),
    ("UNI-HKI", "Helsingin yliopisto", UnitKind.HIGHER_EDUCATION, None),
    ("GIETEN", "Gieten", UnitKind.BRANCH, "9428"),
    ("ANNEN", "Annen", UnitKind.BRANCH, "9468"),
]


def seed_demo_data():
    """Create the demo units and staff, then each area's demo records. Returns the passwords."""
    units = {code: service.create_unit(code, name, kind, branch) for code, name, kind, branch in DEMO_UNITS}
    passwords = {}
    for username, display_name, language, roles in DEMO_STAFF:
        passwords[username] = f"demo-{secrets.token_urlsafe(9)}"
        service.create_user(
            username,
            display_name,
            f"{username}@library.invalid",
            language,
            passwords[username],
            [(role, units.get(code)) for role, code in roles],
        )
    for area in AREAS:
        try:
            demo = importlib.import_module(f"blueprints.{area}.demo")
        except ModuleNotFoundError:
            continue
        demo.seed(units)
    db.session.commit()
    return passwords


@bp.cli.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when there are staff accounts already.")
def seed_demo_command(if_empty):
    """Fill an empty database with demo units, staff and records; prints the passwords once."""
    if db.session.scalar(select(User.id).limit(1)) is not None:
        if if_empty:
            click.echo("Demo data: the database has accounts already; nothing added.")
            return
        raise click.UsageError("the database has accounts already")
    passwords = seed_demo_data()
    click.echo("Demo accounts (the passwords are shown only now):")
    for username, display_name, _language, roles in DEMO_STAFF:
        role_names = ", ".join(f"{r.value}@{c}" if c else r.value for r, c in roles)
        click.echo(f"  {username:<14} {passwords[username]:<22} {role_names}")


@bp.cli.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def serve_command(host, port):
    """Serve the site with Socket.IO; deliver queued mail and watch for chat agents whose
    connection dropped, in the background."""
    from blueprints.chat import staffing

    app = current_app._get_current_object()
    mail.start_retry_loop(app, socketio)
    staffing.start_sweep_loop(app, socketio)
    click.echo(f"Serving on http://{host}:{port}")
    # Flask's CLI refuses app.run() inside a command, so serve through Werkzeug directly;
    # Socket.IO rides on it in threading mode (simple-websocket for WebSocket).
    run_simple(host, port, app, threaded=True)


@bp.cli.group("mail")
def mail_cli():
    """The mail outbox."""


@mail_cli.command("deliver")
def deliver_command():
    """Send every mail that is due now (safe to run from cron)."""
    sent = mail.deliver_due()
    click.echo(f"Sent {sent} mail(s).")
