"""The library staff intranet: the application factory.

Run it with `make run`; `flask --app app --help` lists the commands. The extension objects
live in extensions.py and the configuration in config.py, so that no module below this one
needs to import it.
"""
import os
from pathlib import Path

from flask import Flask, has_request_context, request, session
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from common import transactions
from common.live_queue import LiveMessageQueue
from common.views import IdConverter
from config import DefaultConfig, environment_settings, load_secrets, sqlalchemy_url
from extensions import (
    AREAS,
    LANGUAGES,
    babel,
    csrf,
    db,
    limiter,
    login_manager,
    migrate,
    socketio,
)


def select_locale():
    """The user's own language; before login, a choice made on the page or the browser's."""
    if not has_request_context():
        return "en"  # the command line speaks English, as its own messages do
    if current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    if session.get("language") in LANGUAGES:
        return session["language"]
    return request.accept_languages.best_match(LANGUAGES.keys())


def create_app(test_config=None):
    app = Flask(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = IdConverter  # before any route is added
    app.config.from_object(DefaultConfig)
    os.makedirs(app.instance_path, exist_ok=True)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.update(environment_settings())
        app.config.update(load_secrets(app, app.config))  # only those not given
    else:
        # A test's configuration is the whole story: no developer's instance/config.py or
        # environment leaks in, and nothing is written to instance/.
        app.config.update(test_config)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "app.db")
    if app.config["SESSION_COOKIE_SECURE"] is None:
        app.config["SESSION_COOKIE_SECURE"] = not (app.debug or app.testing or app.config["DEVELOPMENT"])
    app.config["SQLALCHEMY_DATABASE_URI"] = sqlalchemy_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if isinstance(app.config["TRUSTED_HOSTS"], str):  # from the environment: "a.example,b.example"
        app.config["TRUSTED_HOSTS"] = [host.strip() for host in app.config["TRUSTED_HOSTS"].split(",") if host.strip()]
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    root = Path(app.root_path)
    app.config.setdefault(
        "BABEL_TRANSLATION_DIRECTORIES",
        ";".join(str(root / "translations" / area) for area in AREAS),
    )

    transactions.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(root / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    queue = {"client_manager": LiveMessageQueue(app.config["REDIS_URL"], app.config["SOCKETIO_CHANNEL"])} \
        if app.config["REDIS_URL"] else {}
    socketio.init_app(app, async_mode=app.config["SOCKETIO_ASYNC_MODE"], manage_session=False, **queue)

    import cli
    from common import errors, live, logs, mail, security, views

    logs.init_app(app)
    live.init_app(app)
    mail.init_app(app)
    security.init_app(app)
    app.session_interface = security.SessionInterface()
    views.init_app(app)
    errors.init_app(app)

    from blueprints import accounts, chat, ebook, guide, registration

    app.register_blueprint(accounts.bp)
    app.register_blueprint(registration.bp, url_prefix="/registration")
    app.register_blueprint(ebook.bp, url_prefix="/ebook")
    app.register_blueprint(chat.bp, url_prefix="/chat")
    app.register_blueprint(chat.customer.bp, url_prefix="/chat/customer")
    app.register_blueprint(guide.bp, url_prefix="/guide")
    cli.init_app(app)

    # The outermost layers, wrapped last: they change the environ gunicorn's access log reads
    # (Flask-SocketIO's layer passes a copy on).
    if app.config["TRUSTED_HOSTS"]:
        app.wsgi_app = security.LoopbackHealthCheck(app.wsgi_app, app.config["TRUSTED_HOSTS"])
    if app.config["TRUSTED_PROXIES"]:
        # Behind nginx the client's address (rate limits, the audit log, the access log) and the
        # https scheme come from the proxies' X-Forwarded-For/-Proto, for pages and Socket.IO
        # alike; the Host header is checked by TRUSTED_HOSTS.
        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    return app
