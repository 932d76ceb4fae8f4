"""Response headers: a strict Content-Security-Policy (no inline script or style) and friends;
how passwords are hashed."""
from flask import current_app, request
from flask_babel import lazy_gettext as _l
from werkzeug.security import generate_password_hash

from common.views import error_page

HSTS_SECONDS = 365 * 24 * 3600
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",  # covers the site's own ws:/wss: Socket.IO connection, no other host
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)


def _has_nul(request):
    texts = [v for values in (request.args, request.form) for v in values.values()]
    texts += [v for v in (request.view_args or {}).values() if isinstance(v, str)]
    return any("\x00" in text for text in texts)


def init_app(app):
    @app.before_request
    def refuse_nul_characters():
        # PostgreSQL cannot store a NUL character in text; no field of the site needs one.
        if _has_nul(request):
            return error_page(422, _l("Text that cannot be stored"),
                              _l("The text contains a NUL character, which cannot be stored. Remove it and try again."))

    @app.after_request
    def set_security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:  # behind nginx, ProxyFix makes X-Forwarded-Proto count
            response.headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_SECONDS}")
        return response


def hash_password(password):
    """A password (or one-time password) as stored: scrypt in production; the tests set a
    cheap method in PASSWORD_HASH_METHOD, as scrypt costs a tenth of a second each time."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])
