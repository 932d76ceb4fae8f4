"""A live server (the real app with Socket.IO, CSRF on) and Debian's Chromium driven by Playwright."""
import json
import threading
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from app import create_app
from tests.conftest import PASSWORD, free_port, make_config

AXE = next((Path(__file__).parent.parent / "vendor").glob("axe-core-*.min.js")).read_text()
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = make_server("127.0.0.1", self.port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.server.shutdown()


@pytest.fixture(scope="session")
def live_app(app, tmp_path_factory):
    """A second app on the same database as `app`, configured as in production (CSRF on)."""
    live = create_app(
        make_config(
            tmp_path_factory.mktemp("live"),
            SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
            WTF_CSRF_ENABLED=True,
        )
    )
    return live


@pytest.fixture(scope="session")
def live_server(live_app):
    server = LiveServer(live_app)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """new_page(locale="fi") -> a page in a fresh browser context (its own cookies)."""
    contexts = []

    def make(locale="en"):
        context = browser.new_context(base_url=live_server.url, locale=locale)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def log_in(page, username, password=PASSWORD):
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit].primary")
    page.wait_for_url(lambda url: "/login" not in url)


def wait_until_live(page):
    """Wait until the page's Socket.IO connection is up (static/js/live.js marks <body>)."""
    page.wait_for_selector("body[data-live=connected]")


def axe_violations(page):
    """Run axe-core's WCAG 2.1 A and AA rules on the page as it is now."""
    page.evaluate(AXE)
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
        }"""
    )
    return result


def assert_accessible(page):
    violations = axe_violations(page)
    assert not violations, json.dumps(violations, indent=1)


@pytest.fixture
def live_smtp_server(smtp_server, live_app):
    """The loopback SMTP server, used by the live server's app as well."""
    saved = {k: live_app.config[k] for k in ("SMTP_HOST", "SMTP_PORT")}
    live_app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port)
    yield smtp_server
    live_app.config.update(saved)
