"""Staff, units, roles, login, passwords, admin pages, audit log and notices."""
from flask import Blueprint

bp = Blueprint("accounts", __name__, cli_group=None)

from blueprints.accounts import cli, routes  # noqa: E402,F401
