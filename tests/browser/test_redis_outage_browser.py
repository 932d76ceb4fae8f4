"""With Redis stopped, a staff page says that live updates between workstations are
interrupted (its own saves go on), a page opened meanwhile says so at once, and the banner
goes away by itself when Redis answers again. The site runs as its own process on a
redis-server of the test's own."""
import shutil

import pytest
from playwright.sync_api import expect

from common.access import Role
from tests.browser.conftest import log_in, start_site, wait_until_live
from tests.conftest import free_port
from tests.test_redis_outage import OwnRedis

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs Debian's redis-server")


@pytest.fixture
def site_on_own_redis(app):
    redis = OwnRedis()
    redis.start()
    port = free_port()
    process = start_site(port, REDIS_URL=redis.url, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"])
    yield f"http://127.0.0.1:{port}", redis
    process.terminate()
    process.wait(10)
    if redis.process.poll() is None:
        redis.stop()


def test_a_page_says_live_updates_are_interrupted_while_redis_is_away(browser, site_on_own_redis, make_unit, make_user):
    url, redis = site_on_own_redis
    library = make_unit()
    make_user("riikka", (Role.REGISTRAR, library))
    make_user("raili", (Role.REGISTRAR, library))
    first = browser.new_context(base_url=url).new_page()
    later = browser.new_context(base_url=url).new_page()
    try:
        log_in(first, "riikka")
        wait_until_live(first)
        banner = first.locator("#live-interrupted")
        expect(banner).to_be_hidden()
        redis.stop()
        expect(banner).to_be_visible()
        log_in(later, "raili")  # the login's rate limit counts in memory meanwhile
        wait_until_live(later)
        expect(later.locator("#live-interrupted")).to_be_visible()
        redis.start()
        expect(banner).to_be_hidden()
        expect(later.locator("#live-interrupted")).to_be_hidden()
    finally:
        first.context.close()
        later.context.close()
