"""Chat queue: customers wait in service queues, agents pick them up and chat, all live."""
from flask import Blueprint

bp = Blueprint("chat", __name__)

from blueprints.chat import cli, customer, events, filters, routes, statistics_routes  # noqa: E402,F401
