"""Celia registration."""
from flask import Blueprint

bp = Blueprint("registration", __name__)

from blueprints.registration import routes  # noqa: E402,F401
