"""Provisioning commands: units and staff accounts."""
import sys

import click

from blueprints.accounts import bp, service
from blueprints.accounts.models import UnitKind
from common.access import Role
from common.refusals import Refused
from extensions import LANGUAGES


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
    try:
        unit = service.create_unit(code, name, UnitKind(kind), branch_code)
    except Refused as refusal:
        raise click.UsageError(str(refusal)) from None
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
    try:
        service.check_username_free(username)  # before the password is asked for
    except Refused as refusal:
        raise click.UsageError(str(refusal)) from None
    if unit_codes and len(unit_codes) not in (1, len(roles)):
        raise click.UsageError("give one --unit for all roles or one per --role")
    units = []
    for code in unit_codes:
        unit = service.unit_with_code(code)
        if unit is None:
            raise click.UsageError(f"no unit with code {code}")
        units.append(unit)
    if len(units) == 1:
        units = units * len(roles)
    pairs = list(zip([Role(r) for r in roles], units or [None] * len(roles), strict=True))
    for role, unit in pairs:
        if role != Role.SERVICE_ADMIN and unit is None:
            raise click.UsageError(f"the role {role.value} needs --unit")
    password = _read_password(username)
    problems = service.password_problems(password, username)
    if problems:
        raise click.UsageError(" ".join(str(p) for p in problems))
    try:
        user = service.create_user(
            username, display_name or username, email or f"{username}@library.invalid", language, password, pairs
        )
    except Refused as refusal:  # the name taken meanwhile, or the database too busy: nothing was stored
        raise click.ClickException(str(refusal)) from None
    click.echo(f"Created user {user.username} with roles {', '.join(roles)}.")
