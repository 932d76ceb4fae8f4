"""Guide checklist."""
from flask import Blueprint

bp = Blueprint("guide", __name__)

from blueprints.guide import routes  # noqa: E402,F401
