"""A Redis outage takes nothing down with it: logins (whose rate limit counts in Redis), saves
and pages go on, the rate limits count in the process's memory meanwhile, the pages hear that
live updates between processes are interrupted, and everything recovers by itself when Redis
answers again. The test runs a redis-server of its own and stops it."""
import shutil
import subprocess
from datetime import date

import pytest
import redis

from blueprints.accounts import service as accounts
from blueprints.accounts.models import UnitKind
from blueprints.registration.demo import make_hetu
from common.access import Role
from extensions import limiter, socketio
from tests.conftest import PASSWORD, Auth, english_client, eventually, free_port
from tests.ebook.conftest import signup_data, tariff_id
from tests.registration.conftest import customer_fields

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs Debian's redis-server")


class OwnRedis:
    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no"], stdout=subprocess.DEVNULL)
        assert eventually(self.answers, timeout=10)

    def answers(self):
        try:
            return redis.Redis.from_url(self.url).ping()
        except redis.ConnectionError:
            return False

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture
def own_redis():
    server = OwnRedis()
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


@pytest.fixture
def site_on_own_redis(another_app, own_redis):
    site = another_app(REDIS_URL=own_redis.url, LOGIN_RATE_LIMIT="6 per minute")
    with site.app_context():
        branch = accounts.create_unit("GIETEN", "Gieten", UnitKind.BRANCH, "9428")
        library = accounts.create_unit("LIB", "Library", UnitKind.LIBRARY, None)
        accounts.create_user("balie", "Balie", "balie@example.org", "en", PASSWORD, [(Role.COUNTER_STAFF, branch)])
        accounts.create_user("reg", "Reg", "reg@example.org", "en", PASSWORD, [(Role.REGISTRAR, library)])
        ids = {"branch": branch.id, "library": library.id}
    limiter.enabled = True
    return site, ids


def test_with_redis_stopped_staff_log_in_and_save_and_the_limits_count_in_memory(site_on_own_redis, own_redis):
    site, ids = site_on_own_redis
    counter = english_client(site)
    assert Auth(counter).login("balie").status_code == 302
    form = f"/ebook/branches/{ids['branch']}/customers/new"
    assert counter.get(form).status_code == 200
    tariff = str(tariff_id(site, ids["branch"], "0141"))

    own_redis.stop()
    registrar = english_client(site)
    assert Auth(registrar).login("reg").status_code == 302  # was a 500: the login's rate limit is in Redis
    saved = counter.post(form, data=signup_data(surname="Zonderredis", tariff=tariff))
    assert saved.status_code == 200 and '<article class="receipt"' in saved.get_data(as_text=True)
    code = make_hetu(date(1980, 2, 3), 345)
    registered = registrar.post(f"/registration/units/{ids['library']}/customers/new",
                                data=customer_fields(last_name="Redisitön", hetu=code))
    assert registered.status_code == 302
    assert socketio.server.manager.interrupted  # the saves' live events found Redis away
    # The login limit still holds meanwhile, counted in this process: 6 a minute from one address.
    answers = [Auth(english_client(site)).login("reg").status_code for _ in range(6)]
    assert answers[-1] == 429 and 500 not in answers

    own_redis.start()
    socketio.server.manager.next_try = 0  # the next live event tries Redis again at once
    again = counter.post(form, data=signup_data(surname="Metredis", tariff=tariff))
    assert again.status_code == 200
    assert not socketio.server.manager.interrupted
