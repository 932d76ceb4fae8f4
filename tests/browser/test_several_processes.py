"""Production runs several server processes joined by Redis: an event raised in one
process reaches browsers connected to another."""
import os
import subprocess
import sys
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from common.access import Role
from tests.browser.conftest import log_in, wait_until_live
from tests.conftest import free_port

needs_redis = pytest.mark.skipif(
    not (os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL")),
    reason="several processes share state only through PostgreSQL and Redis (CI's second run)",
)


def start_server(port):
    env = dict(os.environ, DEVELOPMENT="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("the server process did not start")


@pytest.fixture
def two_servers():
    ports = free_port(), free_port()
    processes = [start_server(port) for port in ports]
    yield [f"http://127.0.0.1:{port}" for port in ports]
    for process in processes:
        process.terminate()
        process.wait(10)


@needs_redis
def test_a_notice_published_on_one_process_reaches_a_browser_on_another(browser, two_servers, make_unit, make_user):
    library = make_unit()
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    make_user("riikka", (Role.REGISTRAR, library))
    reader = browser.new_context(base_url=two_servers[0]).new_page()
    admin = browser.new_context(base_url=two_servers[1]).new_page()
    try:
        log_in(reader, "riikka")
        wait_until_live(reader)
        log_in(admin, "sirpa")
        admin.goto("/admin/notices")
        admin.fill("#text", "Published on the other process")
        admin.click("button[type=submit].primary")
        expect(reader.locator(".notice-banner")).to_contain_text("Published on the other process", timeout=5000)
    finally:
        reader.context.close()
        admin.context.close()
