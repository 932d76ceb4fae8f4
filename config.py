"""Configuration: every setting declared once, in DefaultConfig, with its default; the ones an
environment variable may override are marked `FromEnvironment` there, and the environment list,
its conversions and the README's table follow from those marks (tests/test_settings.py).
The secrets are generated into instance/secrets.json on first run when not given."""
import json
import os
import secrets
from pathlib import Path
from typing import Annotated, Any, get_type_hints

from cryptography.fernet import Fernet


class FromEnvironment:
    """Marks a setting the environment may override: the variable of the setting's name (or
    `variable`), converted to the type of the setting's default."""

    def __init__(self, variable: str | None = None):
        self.variable = variable


ENV = FromEnvironment()


class DefaultConfig:
    # Set in create_app: instance/app.db unless DATABASE_URL.
    SQLALCHEMY_DATABASE_URI: Annotated[str | None, FromEnvironment("DATABASE_URL")] = None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # A write waits this long for its turn before the user is asked to save again.
    SQLITE_BUSY_TIMEOUT_SECONDS: Annotated[int, ENV] = 30
    REDIS_URL: Annotated[str | None, ENV] = None
    # The address staff use, for the links in mail (make run's by default).
    EXTERNAL_URL: Annotated[str, ENV] = "http://127.0.0.1:5000"
    # E.g. ["intranet.library.fi"]: requests for any other host are refused (400).
    TRUSTED_HOSTS: Annotated[list[str] | None, ENV] = None
    # How many proxies in front (nginx: 1) may say the client's address and https.
    TRUSTED_PROXIES: Annotated[int, ENV] = 0
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = None  # set in create_app: True outside development
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None  # a chat agent keeps one page open all day
    BABEL_DEFAULT_LOCALE = "fi"
    BABEL_DEFAULT_TIMEZONE = "Europe/Helsinki"
    EBOOK_TIMEZONE: Annotated[str, ENV] = "Europe/Amsterdam"  # the Dutch branches' dates and times
    PASSWORD_MAX_AGE_MONTHS: Annotated[int, ENV] = 12
    PASSWORD_HASH_METHOD = "scrypt"  # werkzeug's method; the tests use a cheap one
    LOCKOUT_THRESHOLD = 5
    LOGIN_RATE_LIMIT = "20 per minute"
    # A registrar at a counter checks a few identity codes a minute; more is someone trying codes.
    HETU_LOOKUP_RATE_LIMIT: Annotated[str, ENV] = "10 per minute"
    PASSWORD_RESET_HOURS = 1
    SESSION_IDLE_HOURS: Annotated[int, ENV] = 8  # a staff session unused this long ends (one working day)
    SESSION_MAX_HOURS: Annotated[int, ENV] = 12  # and none outlives this, however busy
    SMTP_HOST: Annotated[str | None, ENV] = None
    SMTP_PORT: Annotated[int, ENV] = 25
    SMTP_USERNAME: Annotated[str | None, ENV] = None
    SMTP_PASSWORD: Annotated[str | None, ENV] = None
    SMTP_STARTTLS: Annotated[bool, ENV] = False
    MAIL_FROM: Annotated[str, ENV] = "no-reply@library.invalid"
    MAIL_RETRY_SECONDS: Annotated[int, ENV] = 60
    RATELIMIT_ENABLED: Annotated[bool, ENV] = True  # Flask-Limiter's own; 0 only for a load test
    # The counters are in Redis; while it does not answer, each process counts in its own memory
    # (common/limits.py), and a Redis that does not answer holds no request for long.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2}
    SOCKETIO_ASYNC_MODE = "threading"
    # The Redis channel of the site's processes; one per site on a shared Redis.
    SOCKETIO_CHANNEL: Annotated[str, ENV] = "flask-socketio"
    # gunicorn.conf.py's: threads of a web process (each open page holds one), and how long a
    # stopping process lets running requests finish.
    WEB_THREADS: Annotated[int, ENV] = 400
    WEB_GRACEFUL_SECONDS: Annotated[int, ENV] = 10
    # A chat agent's dropped connection, before their customers return to the queue.
    CHAT_AGENT_GRACE_SECONDS: Annotated[int, ENV] = 120
    # Successful joins to the chat queue: per address (a library PC room shares one) and per browser session.
    CHAT_JOIN_RATE_LIMIT: Annotated[str, ENV] = "30 per minute"
    CHAT_JOIN_SESSION_RATE_LIMIT: Annotated[str, ENV] = "5 per minute"
    # A customer's lines per conversation; per address only a ceiling against floods (a PC room's
    # customers share one address and each writes their own chat).
    CHAT_MESSAGE_RATE_LIMIT: Annotated[str, ENV] = "30 per minute"
    CHAT_MESSAGE_ADDRESS_RATE_LIMIT: Annotated[str, ENV] = "600 per minute"
    # A customer's closed page, before they leave the queue or their chat ends.
    CHAT_CUSTOMER_GRACE_SECONDS: Annotated[int, ENV] = 60
    # How often the background worker looks for agents and customers gone past their grace period.
    CHAT_SWEEP_SECONDS: Annotated[int, ENV] = 15
    # A waiting customer nobody has picked up is announced again (a desktop notification) after this.
    CHAT_NOTIFY_ESCALATE_SECONDS: Annotated[int, ENV] = 120
    NIGHTLY_JOBS_HOUR: Annotated[int, ENV] = 3  # the nightly purges run at this hour, in BABEL_DEFAULT_TIMEZONE
    CHAT_INTERNAL_RETENTION_DAYS: Annotated[int, ENV] = 30  # internal staff chat messages are purged after this
    # How often the chat button on the library's website asks whether its queue is served now.
    CHAT_WIDGET_POLL_SECONDS = 30
    CHAT_ICE_SERVERS: Annotated[tuple | list, ENV] = ()  # STUN/TURN for video chat; none needed on a local network
    # The national address service for the e-book counter (PDOK Locatieserver's free search,
    # e.g. https://api.pdok.nl/bzk/locatieserver/search/v3_1/free); unset: the embedded demo table.
    EBOOK_ADDRESS_SERVICE_URL: Annotated[str, ENV] = ""
    EBOOK_REGISTRATION_FEE_CENTS: Annotated[int, ENV] = 0  # "Inschrijfkosten" of a new subscription
    # How a registrar reaches the Celia service (seeds 000, 001): its email and its chat queue on
    # this site (the queue's id, the number ending its page's address on /chat/admin/queues;
    # 0: none, the email only; `flask seed-demo` writes the demo's into instance/config.py);
    # where a person without an identity code finds the customer information form and sends it
    # by secure mail; the welcome mail's delay.
    CELIA_SERVICE_EMAIL: Annotated[str, ENV] = "palvelut@celia.fi"
    CELIA_SERVICE_CHAT_QUEUE: Annotated[int, ENV] = 0
    CELIA_CUSTOMER_FORM_URL: Annotated[str, ENV] = "https://www.celianet.fi/lomakkeet/#asiakastietolomake"
    CELIA_SECURE_MAIL_URL: Annotated[str, ENV] = "https://turvaviesti.celia.fi/"
    CELIA_WELCOME_MAIL_DAYS: Annotated[int, ENV] = 14
    DEVELOPMENT: Annotated[bool, ENV] = False  # plain-http cookies on a developer's machine (make run sets it)
    IDENTITY_HMAC_KEY: Annotated[str | None, ENV] = None
    IDENTITY_ENCRYPTION_KEY: Annotated[str | None, ENV] = None
    SECRET_KEY: Annotated[str | None, ENV] = None


def _environment_variables() -> dict[str, str]:
    """{environment variable: setting} for every setting marked FromEnvironment."""
    found = {}
    for name, hint in get_type_hints(DefaultConfig, include_extras=True).items():
        mark = next((m for m in getattr(hint, "__metadata__", ()) if isinstance(m, FromEnvironment)), None)
        if mark is not None:
            found[mark.variable or name] = name
    return found


ENV_SETTINGS = _environment_variables()


# Secrets generated into instance/secrets.json on first run (never committed).
GENERATED_SECRETS = {
    "SECRET_KEY": lambda: secrets.token_hex(32),
    "IDENTITY_HMAC_KEY": lambda: secrets.token_hex(32),
    "IDENTITY_ENCRYPTION_KEY": lambda: Fernet.generate_key().decode(),
}


def _convert(text: str, default: Any) -> Any:
    """A setting's text from the environment, as the type of its default."""
    if isinstance(default, bool):
        return text.lower() in ("1", "true", "yes")
    if isinstance(default, int):
        return int(text)
    if isinstance(default, (tuple, list, dict)):
        return json.loads(text)  # e.g. a list of RTCIceServer objects; bad JSON stops the start
    return text


def environment_settings(environ=os.environ) -> dict[str, Any]:
    """The settings the environment gives, each as the type of its default."""
    found = {}
    for variable, key in ENV_SETTINGS.items():
        value = environ.get(variable)
        if value:
            found[key] = _convert(value, getattr(DefaultConfig, key))
    return found


def load_secrets(app, given):
    """The secrets that `given` (the configuration from instance/config.py and the environment)
    lacks: read from instance/secrets.json, or generated once into it. A secret given is
    neither generated nor written there; when all are given, the file is not written at all."""
    wanted = [key for key in GENERATED_SECRETS if not given.get(key)]
    if not wanted:
        return {}
    path = Path(app.instance_path) / "secrets.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    missing = {key: GENERATED_SECRETS[key]() for key in wanted if not stored.get(key)}
    if missing:
        stored.update(missing)
        # Readable by the site's user only, from the moment it exists.
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
            file.write(json.dumps(stored, indent=2))
        path.chmod(0o600)
    return {key: stored[key] for key in wanted}


def sqlalchemy_url(url):
    """Accept the usual postgres:// and postgresql:// forms and use psycopg 3 for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
