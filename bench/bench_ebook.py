"""E-book signup benchmarks: one JSON object per line, each with a floor measured in the same run.

Uses a scratch SQLite database (or DATABASE_URL). Run: python bench/bench_ebook.py
"""
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select, text  # noqa: E402

from app import create_app  # noqa: E402
from blueprints.accounts import service as accounts  # noqa: E402
from blueprints.accounts.models import UnitKind  # noqa: E402
from blueprints.ebook import cards, pricing, signups  # noqa: E402
from blueprints.ebook.models import CustomerDetails, Tariff  # noqa: E402
from extensions import db  # noqa: E402

ROUNDS = 200


def median_ms(action, rounds=ROUNDS):
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def report(name, value, floor):
    print(json.dumps({"name": name, "value": round(value, 3), "unit": "ms", "floor": round(floor, 3),
                      "ratio": round(value / floor, 2) if floor else None}))


def main():
    folder = tempfile.mkdtemp()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/bench.db"
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None})
    with app.app_context(), app.test_request_context():
        db.drop_all()
        db.create_all()
        unit = accounts.create_unit("GIETEN", "Gieten", UnitKind.BRANCH, "9428")
        pricing.seed_tariffs(unit)
        db.session.commit()
        tariff = db.session.scalar(select(Tariff).where(Tariff.unit_id == unit.id, Tariff.code == "0141"))
        counter = iter(range(1_000_000))

        def floor_write():  # the cheapest write transaction: one UPDATE and a commit
            db.session.execute(text("UPDATE unit SET active = active WHERE id = :id"), {"id": unit.id})
            db.session.commit()

        def next_number():
            cards.generate_card_number(unit)
            db.session.commit()

        def signup():
            n = next(counter)
            signups.sign_up(unit, CustomerDetails(surname=f"Bench{n}", birth_date=date(1980, 1, 1), postcode="9468 BG",
                                                  house_number=41, street="Kruisakkers", city="ANNEN"), tariff)
            db.session.commit()

        floor = median_ms(floor_write)
        report("ebook_card_number_next", median_ms(next_number), floor)
        report("ebook_signup_save", median_ms(signup, rounds=100), floor)
        summary_floor = median_ms(lambda: pricing.age_on(date(1980, 1, 1), date(2025, 1, 1)), rounds=1000)
        report("ebook_cost_summary",
               median_ms(lambda: pricing.cost_summary("X", 45, tariff, date(2025, 1, 1)), rounds=1000),
               summary_floor)
        db.drop_all()


if __name__ == "__main__":
    main()
