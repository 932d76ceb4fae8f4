"""E-book counter signup."""
from flask import Blueprint

bp = Blueprint("ebook", __name__)

from blueprints.ebook import routes  # noqa: E402,F401
