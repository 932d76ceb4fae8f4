"""What the screenshot scripts share: the site on a fresh SQLite database in a temporary
directory, served quietly in a thread, and Debian's Chromium through Playwright."""
import os
import sys
import tempfile
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def site(prefix):
    """The app on its own database, rate limits off (one person takes every picture)."""
    from app import create_app
    from extensions import limiter

    work = tempfile.mkdtemp(prefix=prefix)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{work}/screens.db", "SECRET_KEY": "screens",
                      "REDIS_URL": None, "RATELIMIT_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
                      "IDENTITY_HMAC_KEY": "00" * 32, "IDENTITY_ENCRYPTION_KEY": "A" * 43 + "="})
    limiter.enabled = False
    return app


def serve(app):
    """Serves `app` on a free loopback port in a thread of its own; returns its address."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):
            pass

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


def chromium(playwright):
    return playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                      args=["--no-sandbox", "--disable-gpu"])
