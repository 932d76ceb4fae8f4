"""The library staff intranet: application factory and the extension objects.

Run it with `make run`; `flask --app app --help` lists the commands.
"""
import json
import os
import secrets
import sqlite3
from pathlib import Path

from cryptography.fernet import Fernet
from flask import Flask, has_request_context, request, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

LANGUAGES = {"fi": "Suomi", "sv": "Svenska", "en": "English", "nl": "Nederlands"}
AREAS = ("accounts", "registration", "ebook", "chat", "guide")


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
socketio = SocketIO()


class DefaultConfig:
    SQLALCHEMY_DATABASE_URI = None  # set in create_app: instance/app.db unless DATABASE_URL
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = None  # set in create_app: True outside development
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None  # a chat agent keeps one page open all day
    BABEL_DEFAULT_LOCALE = "fi"
    BABEL_DEFAULT_TIMEZONE = "Europe/Helsinki"
    PASSWORD_MAX_AGE_MONTHS = 12
    LOCKOUT_THRESHOLD = 5
    LOGIN_RATE_LIMIT = "20 per minute"
    PASSWORD_RESET_HOURS = 1
    SMTP_HOST = None
    SMTP_PORT = 25
    SMTP_USERNAME = None
    SMTP_PASSWORD = None
    SMTP_STARTTLS = False
    MAIL_FROM = "no-reply@library.invalid"
    MAIL_RETRY_SECONDS = 60
    SOCKETIO_ASYNC_MODE = "threading"
    CHAT_AGENT_GRACE_SECONDS = 120  # a chat agent's dropped connection, before their customers return to the queue
    CHAT_SWEEP_SECONDS = 15  # how often each server process looks for agents gone past the grace period
    CHAT_INTERNAL_RETENTION_DAYS = 30  # internal staff chat messages are purged after this
    CHAT_ICE_SERVERS = ()  # STUN/TURN for video chat; none needed on a local network
    DEVELOPMENT = False  # plain-http cookies on a developer's machine (make run sets it)


# Environment variables that override the configuration (production settings).
ENV_SETTINGS = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "REDIS_URL": "REDIS_URL",
    "SECRET_KEY": "SECRET_KEY",
    "SMTP_HOST": "SMTP_HOST",
    "SMTP_PORT": "SMTP_PORT",
    "SMTP_USERNAME": "SMTP_USERNAME",
    "SMTP_PASSWORD": "SMTP_PASSWORD",
    "SMTP_STARTTLS": "SMTP_STARTTLS",
    "MAIL_FROM": "MAIL_FROM",
    "PASSWORD_MAX_AGE_MONTHS": "PASSWORD_MAX_AGE_MONTHS",
    "IDENTITY_HMAC_KEY": "IDENTITY_HMAC_KEY",
    "IDENTITY_ENCRYPTION_KEY": "IDENTITY_ENCRYPTION_KEY",
    "DEVELOPMENT": "DEVELOPMENT",
    "CHAT_AGENT_GRACE_SECONDS": "CHAT_AGENT_GRACE_SECONDS",
    "CHAT_SWEEP_SECONDS": "CHAT_SWEEP_SECONDS",
    "CHAT_INTERNAL_RETENTION_DAYS": "CHAT_INTERNAL_RETENTION_DAYS",
    "CHAT_ICE_SERVERS": "CHAT_ICE_SERVERS",
}

# Secrets generated into instance/secrets.json on first run (never committed).
GENERATED_SECRETS = {
    "SECRET_KEY": lambda: secrets.token_hex(32),
    "IDENTITY_HMAC_KEY": lambda: secrets.token_hex(32),
    "IDENTITY_ENCRYPTION_KEY": lambda: Fernet.generate_key().decode(),
}


def _load_secrets(app):
    path = Path(app.instance_path) / "secrets.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    missing = {k: make() for k, make in GENERATED_SECRETS.items() if k not in stored}
    if missing:
        stored.update(missing)
        path.write_text(json.dumps(stored, indent=2))
        path.chmod(0o600)
    app.config.update(stored)


def _environment_settings():
    found = {}
    for variable, key in ENV_SETTINGS.items():
        value = os.environ.get(variable)
        if value:
            if key in ("SMTP_PORT", "PASSWORD_MAX_AGE_MONTHS", "CHAT_AGENT_GRACE_SECONDS", "CHAT_SWEEP_SECONDS",
                       "CHAT_INTERNAL_RETENTION_DAYS"):
                value = int(value)
            elif key in ("SMTP_STARTTLS", "DEVELOPMENT"):
                value = value.lower() in ("1", "true", "yes")
            elif key == "CHAT_ICE_SERVERS":
                value = json.loads(value)  # a list of RTCIceServer objects; bad JSON stops the start
            found[key] = value
    return found


def select_locale():
    """The user's own language; before login, a choice made on the page or the browser's."""
    if not has_request_context():
        return "en"  # the command line speaks English, as its own messages do
    if current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    if session.get("language") in LANGUAGES:
        return session["language"]
    return request.accept_languages.best_match(LANGUAGES.keys())


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, connection_record):
    """The embedded SQLite default: a write-ahead log lets pages read while one request writes,
    and in that mode syncing at checkpoints instead of at every commit still survives a crash
    of the server process (only a power cut can lose the last commits)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def create_app(test_config=None):
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(DefaultConfig)
    os.makedirs(app.instance_path, exist_ok=True)
    _load_secrets(app)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(_environment_settings())
    if test_config:
        app.config.update(test_config)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "app.db")
    if app.config["SESSION_COOKIE_SECURE"] is None:
        app.config["SESSION_COOKIE_SECURE"] = not (app.debug or app.testing or app.config["DEVELOPMENT"])
    app.config["SQLALCHEMY_DATABASE_URI"] = _sqlalchemy_url(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    root = Path(app.root_path)
    app.config.setdefault(
        "BABEL_TRANSLATION_DIRECTORIES",
        ";".join(str(root / "translations" / area) for area in AREAS),
    )

    db.init_app(app)
    migrate.init_app(app, db, directory=str(root / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=app.config["REDIS_URL"],
        manage_session=False,
    )

    from common import live, mail, security, views

    live.init_app(app)
    mail.init_app(app)
    security.init_app(app)
    views.init_app(app)

    from blueprints import accounts, chat, ebook, guide, registration

    app.register_blueprint(accounts.bp)
    app.register_blueprint(registration.bp, url_prefix="/registration")
    app.register_blueprint(ebook.bp, url_prefix="/ebook")
    app.register_blueprint(chat.bp, url_prefix="/chat")
    app.register_blueprint(guide.bp, url_prefix="/guide")

    return app


def _sqlalchemy_url(url):
    """Accept the usual postgres:// and postgresql:// forms and use psycopg 3 for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
