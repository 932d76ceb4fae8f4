"""A live server (the real app with Socket.IO, CSRF on) and Debian's Chromium driven by Playwright."""
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from app import create_app
from extensions import limiter
from tests.conftest import PASSWORD, free_port, make_config

AXE = next((Path(__file__).parent.parent / "vendor").glob("axe-core-*.min.js")).read_text()
CHROMIUM = "/usr/bin/chromium"
# Every wait of a browser test is for the event it needs; this only catches a hang. The suite
# runs on machines loaded by other work, where a live update may take seconds: speed is the
# benchmarks' (bench/), never a test's.
HANG = 60_000
expect.set_options(timeout=HANG)
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


needs_redis = pytest.mark.skipif(
    not (os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL")),
    reason="several processes share state only through PostgreSQL and Redis (CI's second run)",
)


def start_site(port, **environment):
    """The site as a process of its own (flask serve) on `port`, once it answers /healthz."""
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "serve", "--port", str(port)],
                               env=dict(os.environ, DEVELOPMENT="1", **environment),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("the site did not start")


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
    limiter.enabled = False  # create_app turned the run's one limiter on: the tests that check a limit turn it on
    return live


@pytest.fixture(scope="session")
def live_server(live_app):
    server = LiveServer(live_app)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def two_servers():
    """The addresses of two server processes of the site (on REDIS_URL and DATABASE_URL)."""
    ports = free_port(), free_port()
    processes = [start_site(port) for port in ports]
    yield [f"http://127.0.0.1:{port}" for port in ports]
    for process in processes:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test reports what its pages were answered with besides success and
    what they wrote to the console, so that a failure seen once in CI says why."""
    outcome = yield
    report = outcome.get_result()
    happened = getattr(item, "browser_events", None)
    if report.when == "call" and report.failed and happened is not None:
        for number, page in enumerate(getattr(item, "browser_pages", []), start=1):
            try:
                shown = page.evaluate("document.body.innerText.slice(0, 3000)") if not page.is_closed() else "(closed)"
            except Exception as error:  # noqa: BLE001 - a report of a failure must not fail itself
                shown = f"(unreadable: {error})"
            happened.append(f"page {number} at the end, {'' if page.is_closed() else page.url}:\n{shown}")
        report.sections.append(("What the pages saw", "\n".join(happened)))


@pytest.fixture
def new_page(request, browser, live_server):
    """new_page(locale="fi", viewport={"width": 1366, "height": 768}) -> a page in a fresh browser
    context (its own cookies)."""
    contexts = []
    happened = request.node.browser_events = []
    pages = request.node.browser_pages = []

    def make(locale="en", viewport=None):
        size = {"viewport": viewport} if viewport else {}
        context = browser.new_context(base_url=live_server.url, locale=locale, **size)
        context.set_default_timeout(HANG)
        contexts.append(context)
        page = context.new_page()
        pages.append(page)
        name = f"page {len(contexts)}"
        page.on("response", lambda response: response.status >= 400 and happened.append(
            f"{time.strftime('%H:%M:%S')} {name}: {response.status} {response.request.method} {response.url}"))
        page.on("console", lambda message: message.type in ("error", "warning") and happened.append(
            f"{time.strftime('%H:%M:%S')} {name}: console {message.type}: {message.text}"))
        page.on("framenavigated", lambda frame: frame.parent_frame is None and happened.append(
            f"{time.strftime('%H:%M:%S')} {name}: at {frame.url}"))
        return page

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
            const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
        }"""
    )
    return result


def confirm(page):
    """Answer Yes in the page's own confirmation dialog (templates/base.html, static/js/confirm.js)."""
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("[data-confirm-answer=yes]").click()
    expect(dialog).to_be_hidden()


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
