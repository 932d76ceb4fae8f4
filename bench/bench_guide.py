"""Guide benchmarks: the statistics page's figures and a tick, on a temporary SQLite database.

Prints one JSON object per line: the median time in ms, a floor measured in the same run
(a bare count of the same sessions, and a bare row insert), and the ratio to it.
"""
import json
import random
import statistics as stats
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from app import create_app  # noqa: E402
from blueprints.accounts import service as accounts  # noqa: E402
from blueprints.accounts.models import UnitKind  # noqa: E402
from blueprints.guide import service  # noqa: E402
from blueprints.guide.models import GuidanceSession, ItemGroup, Outcome, SessionTopic  # noqa: E402
from common.access import Role  # noqa: E402
from common.clock import utcnow  # noqa: E402
from extensions import db  # noqa: E402

SESSIONS = 3000
ZONE = ZoneInfo("Europe/Helsinki")


def median_ms(action, repeat=15):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return stats.median(times)


def report(name, value, floor):
    print(json.dumps({"name": name, "value": round(value, 3), "unit": "ms", "floor": round(floor, 3),
                      "ratio": round(value / floor, 2)}))


def main():
    folder = tempfile.mkdtemp()
    app = create_app({"TESTING": True, "SECRET_KEY": "bench",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db"})
    with app.app_context():
        db.create_all()
        unit = accounts.create_unit("B1", "Bench library", UnitKind.LIBRARY, None)
        guide = accounts.create_user("bench", "Bench", "b@example.org", "en", None, [(Role.GUIDE, unit)])
        version = service.ensure_first_version()
        rng = random.Random(4)
        now = utcnow()
        for _ in range(SESSIONS):
            started = now - timedelta(minutes=rng.randint(0, 300 * 24 * 60))
            db.session.add(GuidanceSession(
                unit_id=unit.id, guide_id=guide.id, version=version, device=rng.choice(list(service.DEVICES)),
                customer_language="fi", started_at=started, ended_at=started, duration_minutes=rng.randint(0, 90),
                outcome=rng.choice(list(Outcome)), topics=[SessionTopic(topic=rng.choice(list(service.TOPICS)))],
            ))
        db.session.commit()
        start, end = date.today() - timedelta(days=366), date.today() + timedelta(days=1)

        def figures():
            db.session.expire_all()
            service.statistics([unit.id], start, end, ZONE)

        def count():
            db.session.scalar(select(func.count()).select_from(GuidanceSession)
                              .where(GuidanceSession.unit_id == unit.id))

        report(f"guide.statistics_{SESSIONS}_sessions", median_ms(figures, 7), median_ms(count))

        session = service.start_session(guide, unit.id, ["email"], "phone", "fi")
        db.session.commit()
        item = version.group(ItemGroup.ALWAYS)[0].id
        state = {"on": False}

        def tick():
            state["on"] = not state["on"]
            service.set_tick(guide, session, item, state["on"])
            db.session.commit()

        def bare_insert():
            db.session.add(SessionTopic(session_id=session.id, topic=f"t{time.perf_counter_ns()}"))
            db.session.commit()

        report("guide.tick", median_ms(tick, 40), median_ms(bare_insert, 40))


if __name__ == "__main__":
    main()
