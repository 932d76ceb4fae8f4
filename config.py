"""Configuration: the defaults, the environment settings that override them, and the secrets
generated into instance/secrets.json on first run."""
import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet


class DefaultConfig:
    SQLALCHEMY_DATABASE_URI = None  # set in create_app: instance/app.db unless DATABASE_URL
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLITE_BUSY_TIMEOUT_SECONDS = 30  # a write waits this long for its turn before the user is asked to save again
    REDIS_URL = None
    EXTERNAL_URL = "http://127.0.0.1:5000"  # the address staff use, for the links in mail (make run's by default)
    TRUSTED_HOSTS = None  # e.g. ["intranet.library.fi"]: requests for any other host are refused (400)
    TRUSTED_PROXIES = 0  # how many proxies in front (nginx: 1) may say the client's address and https
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = None  # set in create_app: True outside development
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None  # a chat agent keeps one page open all day
    BABEL_DEFAULT_LOCALE = "fi"
    BABEL_DEFAULT_TIMEZONE = "Europe/Helsinki"
    EBOOK_TIMEZONE = "Europe/Amsterdam"  # the Dutch branches' dates and times
    PASSWORD_MAX_AGE_MONTHS = 12
    PASSWORD_HASH_METHOD = "scrypt"  # werkzeug's method; the tests use a cheap one
    LOCKOUT_THRESHOLD = 5
    LOGIN_RATE_LIMIT = "20 per minute"
    # A registrar at a counter checks a few identity codes a minute; more is someone trying codes.
    HETU_LOOKUP_RATE_LIMIT = "10 per minute"
    PASSWORD_RESET_HOURS = 1
    SESSION_IDLE_HOURS = 8  # a staff session unused this long ends (one working day)
    SESSION_MAX_HOURS = 12  # and none outlives this, however busy
    SMTP_HOST = None
    SMTP_PORT = 25
    SMTP_USERNAME = None
    SMTP_PASSWORD = None
    SMTP_STARTTLS = False
    MAIL_FROM = "no-reply@library.invalid"
    MAIL_RETRY_SECONDS = 60
    SOCKETIO_ASYNC_MODE = "threading"
    SOCKETIO_CHANNEL = "flask-socketio"  # the Redis channel of the site's processes; one per site on a shared Redis
    CHAT_AGENT_GRACE_SECONDS = 120  # a chat agent's dropped connection, before their customers return to the queue
    # Successful joins to the chat queue: per address (a library PC room shares one) and per browser session.
    CHAT_JOIN_RATE_LIMIT = "30 per minute"
    CHAT_JOIN_SESSION_RATE_LIMIT = "5 per minute"
    CHAT_CUSTOMER_GRACE_SECONDS = 60  # a customer's closed page, before they leave the queue or their chat ends
    CHAT_SWEEP_SECONDS = 15  # how often the background worker looks for agents and customers gone past their grace period
    NIGHTLY_JOBS_HOUR = 3  # the nightly purges run at this hour, in BABEL_DEFAULT_TIMEZONE
    CHAT_INTERNAL_RETENTION_DAYS = 30  # internal staff chat messages are purged after this
    CHAT_ICE_SERVERS = ()  # STUN/TURN for video chat; none needed on a local network
    # The national address service for the e-book counter (PDOK Locatieserver's free search,
    # e.g. https://api.pdok.nl/bzk/locatieserver/search/v3_1/free); unset: the embedded demo table.
    EBOOK_ADDRESS_SERVICE_URL = ""
    # How a registrar reaches the Celia service (seeds 000, 001): its email and its chat queue on
    # this site (the queue's id; 0: none); where a person without an identity code finds the
    # customer information form and sends it by secure mail; the welcome mail's delay.
    CELIA_SERVICE_EMAIL = "palvelut@celia.fi"
    CELIA_SERVICE_CHAT_QUEUE = 0
    CELIA_CUSTOMER_FORM_URL = "https://www.celianet.fi/lomakkeet/#asiakastietolomake"
    CELIA_SECURE_MAIL_URL = "https://turvaviesti.celia.fi/"
    CELIA_WELCOME_MAIL_DAYS = 14
    DEVELOPMENT = False  # plain-http cookies on a developer's machine (make run sets it)
    IDENTITY_HMAC_KEY = None
    IDENTITY_ENCRYPTION_KEY = None
    SECRET_KEY = None


# Environment variables that override the configuration, each converted to the type its
# setting has in DefaultConfig. DATABASE_URL is the usual name for the database address.
ENV_SETTINGS = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    **{name: name for name in (
        "REDIS_URL", "SECRET_KEY", "SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_STARTTLS",
        "MAIL_FROM", "PASSWORD_MAX_AGE_MONTHS", "IDENTITY_HMAC_KEY", "IDENTITY_ENCRYPTION_KEY", "DEVELOPMENT",
        "CHAT_AGENT_GRACE_SECONDS", "CHAT_CUSTOMER_GRACE_SECONDS", "CHAT_SWEEP_SECONDS", "CHAT_INTERNAL_RETENTION_DAYS",
        "CHAT_ICE_SERVERS", "CHAT_JOIN_RATE_LIMIT", "CHAT_JOIN_SESSION_RATE_LIMIT",
        "SOCKETIO_CHANNEL",
        "EBOOK_ADDRESS_SERVICE_URL", "EBOOK_TIMEZONE", "CELIA_SERVICE_EMAIL", "CELIA_SERVICE_CHAT_QUEUE", "CELIA_CUSTOMER_FORM_URL",
        "CELIA_SECURE_MAIL_URL", "CELIA_WELCOME_MAIL_DAYS",
        "SQLITE_BUSY_TIMEOUT_SECONDS", "RATELIMIT_ENABLED", "EXTERNAL_URL", "TRUSTED_HOSTS", "TRUSTED_PROXIES",
        "NIGHTLY_JOBS_HOUR", "MAIL_RETRY_SECONDS",
        "HETU_LOOKUP_RATE_LIMIT", "SESSION_IDLE_HOURS", "SESSION_MAX_HOURS",
    )},
}

# Secrets generated into instance/secrets.json on first run (never committed).
GENERATED_SECRETS = {
    "SECRET_KEY": lambda: secrets.token_hex(32),
    "IDENTITY_HMAC_KEY": lambda: secrets.token_hex(32),
    "IDENTITY_ENCRYPTION_KEY": lambda: Fernet.generate_key().decode(),
}


# Settings of an extension, left out of DefaultConfig so that the extension's own default
# holds, with the type their value has (RATELIMIT_ENABLED=0: a load test without limits).
EXTENSION_DEFAULTS = {"RATELIMIT_ENABLED": True}


def _convert(text, default):
    """A setting's text from the environment, as the type of its default."""
    if isinstance(default, bool):
        return text.lower() in ("1", "true", "yes")
    if isinstance(default, int):
        return int(text)
    if isinstance(default, (tuple, list, dict)):
        return json.loads(text)  # e.g. a list of RTCIceServer objects; bad JSON stops the start
    return text


def environment_settings(environ=os.environ):
    found = {}
    for variable, key in ENV_SETTINGS.items():
        value = environ.get(variable)
        if value:
            found[key] = _convert(value, getattr(DefaultConfig, key, EXTENSION_DEFAULTS.get(key)))
    return found


def load_secrets(app):
    """The secrets not given otherwise, generated once into instance/secrets.json."""
    path = Path(app.instance_path) / "secrets.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    missing = {k: make() for k, make in GENERATED_SECRETS.items() if k not in stored}
    if missing:
        stored.update(missing)
        path.write_text(json.dumps(stored, indent=2))
        path.chmod(0o600)
    return stored


def sqlalchemy_url(url):
    """Accept the usual postgres:// and postgresql:// forms and use psycopg 3 for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
