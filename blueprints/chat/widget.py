"""The chat button for the library's own website: the one-line snippet a service admin pastes
into the site, the origins allowed to frame the customer page per queue, and the queue's status
as the button shows it (staffed now or not, in the host page's language).

The routes are in widget_routes.py; the customer page's frame-ancestors in customer.py.
"""
from urllib.parse import urlsplit

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import escape

from blueprints.chat import staffing
from blueprints.chat.models import ChatQueue
from common.refusals import Refused
from extensions import LANGUAGES

MAX_ORIGINS = 20
ORIGIN_MAX_LENGTH = 253 + len("https://") + len(":65535")


def parse_origins(text: str | None) -> list[str]:
    """The origins (scheme://host[:port]) allowed to show a queue's customer page in a frame,
    one per line or separated by spaces: https or http, a host and an optional port, nothing
    else (no path, no wildcard, no user). Each is written as browsers compare it: lower case,
    without a default port. Refused (at the field) names the first that is not one."""
    origins: list[str] = []
    for word in (text or "").split():
        origin = normalise_origin(word)
        if origin is None:
            raise Refused(_l("“%(origin)s” is not a website address like https://www.library.fi.",
                             origin=word[:ORIGIN_MAX_LENGTH]), field="embed_origins")
        if origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_ORIGINS:
        raise Refused(_l("At most %(count)d websites.", count=MAX_ORIGINS), field="embed_origins")
    return origins


def normalise_origin(text: str) -> str | None:
    """An origin as a browser sends it in Origin (https://www.library.fi, http://127.0.0.1:8000),
    or None when `text` is not only an origin. A trailing slash is forgiven."""
    if len(text) > ORIGIN_MAX_LENGTH or any(c in text for c in "*\\'\";,<>"):
        return None
    try:
        parts = urlsplit(text.rstrip("/") if text.count("/") == 3 else text)
        port = parts.port
    except ValueError:
        return None
    if (parts.scheme not in ("https", "http") or not parts.hostname or parts.path or parts.query
            or parts.fragment or parts.username is not None or parts.password is not None):
        return None
    host = parts.hostname.lower()
    if not all(label and (label.replace("-", "").isalnum() or ":" in host) for label in host.split(".")):
        return None
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    default = {"https": 443, "http": 80}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def allowed_origins(queue: ChatQueue | None) -> list[str]:
    return (queue.embed_origins or "").split() if queue is not None else []


def frame_ancestors(queue: ChatQueue | None) -> str:
    """The customer page's frame-ancestors: the queue's listed websites, or none."""
    origins = allowed_origins(queue)
    return " ".join(origins) if origins else "'none'"


def snippet(queue: ChatQueue) -> str:
    """The line a service admin pastes into the library's website (as text: the page escapes
    it): a script of this site at its configured address, loaded without holding up the page."""
    src = current_app.config["EXTERNAL_URL"].rstrip("/") + url_for("chat.widget_script", queue_id=queue.id)
    return f'<script src="{escape(src)}" async></script>'



def button_language(queue: ChatQueue, asked: str | None) -> str:
    """The host page's language (its <html lang>, "sv-FI" counts as sv) if the site speaks it,
    else the queue's own."""
    language = (asked or "").replace("_", "-").split("-")[0].lower()
    if language in LANGUAGES:
        return language
    return queue.widget_language or current_app.config["BABEL_DEFAULT_LOCALE"]


def status(queue: ChatQueue, language: str) -> dict:
    """What the button shows: whether someone serves the queue now, its texts in `language`,
    and where customers may write when nobody does. A closed queue is never online."""
    online = queue.is_open and staffing.is_staffed(queue)
    with force_locale(language):
        texts = {
            "button": _("Chat with the library"),
            "state": _("Online: a librarian answers now.") if online else _("Offline: nobody answers right now."),
            "contact": _("You can write to us at %(email)s.", email=queue.contact_email)
            if queue.contact_email and not online else "",
            "close": _("Close the chat"),
            "title": _("Chat with the library: %(queue)s", queue=queue.name),
        }
    return {"queue": queue.id, "online": online, "language": language,
            "contact_email": queue.contact_email if not online else None,
            "poll_seconds": current_app.config["CHAT_WIDGET_POLL_SECONDS"], "texts": texts}
