"""Chat queue: customers wait in service queues, agents pick them up and chat, all live."""
from flask import Blueprint

bp = Blueprint("chat", __name__)

from blueprints.chat import (  # noqa: E402,F401
    canned_routes,
    cli,
    customer,
    events,
    filters,
    notify_routes,
    routes,
    statistics_routes,
    transcripts_routes,
    widget_routes,
)
