"""Response headers: a strict Content-Security-Policy (no inline script or style) and friends;
how passwords are hashed; the health check asked on the machine itself."""
import ipaddress
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from flask import (
    Flask,
    Request,
    Response,
    abort,
    current_app,
    has_request_context,
    make_response,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from werkzeug.security import generate_password_hash

from common import transactions
from common.views import error_page

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

HSTS_SECONDS = 365 * 24 * 3600
FRAME_ANCESTORS_NONE = "frame-ancestors 'none'"


def content_security_policy(frame_ancestors: str = "'none'") -> str:
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "media-src 'self' blob: mediastream:",
            "connect-src 'self'",  # covers the site's own ws:/wss: Socket.IO connection, no other host
            f"frame-ancestors {frame_ancestors}",
            "form-action 'self'",
            "base-uri 'self'",
            "object-src 'none'",
        ]
    )


CONTENT_SECURITY_POLICY = content_security_policy()


def _has_nul(request: Request) -> bool:
    texts = [v for values in (request.args, request.form) for v in values.values()]
    texts += [v for v in (request.view_args or {}).values() if isinstance(v, str)]
    return any("\x00" in text for text in texts)


def init_app(app: Flask) -> None:
    @app.before_request
    def refuse_nul_characters() -> ResponseReturnValue | None:
        # PostgreSQL cannot store a NUL character in text; no field of the site needs one.
        if _has_nul(request):
            return error_page(422, _l("Text that cannot be stored"),
                              _l("The text contains a NUL character, which cannot be stored. Remove it and try again."))
        return None

    @app.after_request
    def set_security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if FRAME_ANCESTORS_NONE in response.headers["Content-Security-Policy"]:
            # The old browsers' fallback; a page that names its framing sites has none, as
            # X-Frame-Options cannot list several.
            response.headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:  # behind nginx, ProxyFix makes X-Forwarded-Proto count
            response.headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_SECONDS}")
        return response


def allow_framing_by(response: Response, frame_ancestors: str) -> None:
    """This page may be shown in a frame by `frame_ancestors` (origins, or 'none'): the chat's
    customer page in the panel of a library website's chat button."""
    response.headers["Content-Security-Policy"] = content_security_policy(frame_ancestors)


class SessionInterface(SecureCookieSessionInterface):
    """The session cookie as the chat's customer pages set it over https: SameSite=None (and
    Secure), so that it is sent inside the frame of the chat button on the library's own
    website, another site. Every other page, and every page over http, keeps the site's Lax."""

    def _third_party(self) -> bool:
        return has_request_context() and request.blueprint == "chat_customer" and request.is_secure

    def get_cookie_samesite(self, app: Flask) -> str | None:
        return "None" if self._third_party() else super().get_cookie_samesite(app)

    def get_cookie_secure(self, app: Flask) -> bool:
        return True if self._third_party() else super().get_cookie_secure(app)


def exchange_one_time_link(token: str, valid: Callable[[str], object | None], session_key: str,
                           form_endpoint: str) -> Response:
    """A mailed one-time link (a password link, a Celia credentials link): checked, not used, and
    exchanged at once for its token-free form (the token kept in the session under
    `session_key`), so that the address that holds it is in no page's history or Referer, and a
    mail scanner that opens the link first uses nothing up. An unknown or used link is 410."""
    if valid(token) is None:
        abort(410)
    session[session_key] = token
    return no_referrer(redirect(url_for(form_endpoint), 303))


def no_referrer(response: ResponseReturnValue) -> Response:
    """A page reached with a one-time link (a password link's form) sends no Referer anywhere,
    stricter than the site's same-origin, and is kept in no cache."""
    response = make_response(response)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def hash_password(password: str) -> str:
    """A password (or one-time password) as stored: scrypt in production; the tests set a
    cheap method in PASSWORD_HASH_METHOD, as scrypt costs a tenth of a second each time. The
    reads before it are ended first, so that no database connection waits through it."""
    transactions.end_reads()
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


HEALTH_PATH = "/healthz"


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return address == "localhost"


def _host_name(host: str) -> str:
    """A Host header without its port: 127.0.0.1:8001, [::1]:8001, localhost."""
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    return host.partition(":")[0]


class LoopbackHealthCheck:
    """WSGI middleware: /healthz asked on the machine itself (monitoring's
    `curl http://127.0.0.1:8001/healthz`, a loopback host name from a loopback peer) answers
    although TRUSTED_HOSTS names only the site's public host. Such a request is passed on as if
    for the first trusted host; any other path, host or peer is checked by TRUSTED_HOSTS as
    before. The health answer holds no link that a host could change. Behind nginx it runs
    inside ProxyFix, so that the peer is the client nginx names, not nginx itself."""

    def __init__(self, wsgi_app: "WSGIApplication", trusted_hosts: list[str]) -> None:
        self.wsgi_app = wsgi_app
        self.host = trusted_hosts[0].lstrip(".")  # ".example.org" trusts example.org too

    def __call__(self, environ: "WSGIEnvironment", start_response: "StartResponse") -> Iterable[bytes]:
        if (environ.get("PATH_INFO") == HEALTH_PATH and _is_loopback(environ.get("REMOTE_ADDR") or "")
                and _is_loopback(_host_name(environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or ""))):
            environ["HTTP_HOST"] = self.host
        return self.wsgi_app(environ, start_response)
