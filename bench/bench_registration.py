"""Registration speed with a million customers: identity-code check p50, name search p95.

One command: `python bench/bench_registration.py`. It builds its own database (a temporary
SQLite file, or BENCH_DATABASE_URL, e.g. a scratch PostgreSQL database, which it empties),
fills it with BENCH_CUSTOMERS (default 1,000,000) customers with valid identity codes made
here, then times the real routes through the app and, in the same run, the bare indexed SQL
query each route rests on (the floor) and, for the check, a stack floor: a bare Flask route doing
the same indexed lookup, one audit insert and a commit. The check runs as in production, with
the per-user throttle counting and the audit record written. Prints one JSON object per figure.
"""
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402

from app import create_app  # noqa: E402
from blueprints.accounts import service as accounts  # noqa: E402
from blueprints.accounts.models import UnitKind  # noqa: E402
from blueprints.registration import service  # noqa: E402
from blueprints.registration.demo import make_hetu  # noqa: E402
from blueprints.registration.models import Customer  # noqa: E402
from common.access import Role  # noqa: E402
from extensions import db, limiter  # noqa: E402

CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", 1_000_000))
UNITS = 1000
BATCH = 10_000
SAMPLES = 300
PASSWORD = "bench-password-long-9"
FIRST = ["Aino", "Eero", "Äijä", "Sofia", "Matti", "Öljy", "Liisa", "Jussi", "Åsa", "Pekka", "Helmi", "Ilmari",
         "Väinö", "Kaarina"]
LAST = ["Äijälä", "Virtanen", "Korhonen", "Öhman", "Lindqvist", "Mäkinen", "Nieminen", "Hämäläinen", "Laine",
        "Heikkinen", "Koskinen", "Järvinen", "Lehtonen", "Saarinen", "Åström", "Salminen", "Kärkkäinen", "Rantanen",
        "Tuominen", "Väisänen"]
BASE = date(1935, 1, 1)
DAYS = 30_000  # birth dates over ~82 years; the individual number varies beyond that


def code_for(i):
    return make_hetu(BASE + timedelta(days=i % DAYS), 2 + i // DAYS)


def fill(unit_ids):
    rng = random.Random(7)
    rows = []
    done = 0
    started = time.perf_counter()
    for i in range(CUSTOMERS):
        code = code_for(i)
        first, last = rng.choice(FIRST), rng.choice(LAST) + ("" if i % 3 else f"-{rng.choice(LAST)}")
        rows.append({
            **service.stored_hetu(code),
            "birth_date": BASE + timedelta(days=i % DAYS), "unit_id": unit_ids[i % len(unit_ids)],
            "first_name": first, "last_name": last,
            "first_name_key": service.name_key(first), "last_name_key": service.name_key(last),
            "language": "fi", "status": "active", "service_form": "net", "basis": "reading_disability",
            "channel": "face_to_face",
        })
        if len(rows) == BATCH:
            db.session.execute(insert(Customer), rows)
            db.session.commit()
            done += len(rows)
            rows = []
            if done % 100_000 == 0:
                print(f"# {done} customers, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    if rows:
        db.session.execute(insert(Customer), rows)
        db.session.commit()


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def timed(fn):
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main():
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None,
                      "SECRET_KEY": "bench", "IDENTITY_HMAC_KEY": "11" * 32,
                      "IDENTITY_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
                      # The throttle counts every check, as in production; set high enough never to refuse one.
                      "HETU_LOOKUP_RATE_LIMIT": "1000000 per minute"})
    limiter.enabled = True
    rng = random.Random(11)
    with app.app_context():
        db.drop_all()
        db.create_all()
        units = [accounts.create_unit(f"B{n}", f"Library {n}", UnitKind.LIBRARY) for n in range(UNITS)]
        mine = units[:3]
        accounts.create_user("bench", "Bench", "bench@example.org", "en", PASSWORD, [(Role.REGISTRAR, u) for u in mine])
        unit_ids = [u.id for u in units]
        mine_ids = [u.id for u in mine]
        with app.test_request_context():
            fill(unit_ids)
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        else:
            db.session.execute(text("ANALYZE"))

        codes = [code_for(rng.randrange(CUSTOMERS)) for _ in range(SAMPLES)]
        prefixes = [service.name_key(rng.choice(LAST))[: rng.randint(2, 5)] for _ in range(SAMPLES)]
        with app.test_request_context():
            hashes = [service.hetu_hash(c) for c in codes]
        db.session.remove()

    # Requests run outside any app context, each in its own, as on a server.
    client = app.test_client()
    client.post("/login", data={"username": "bench", "password": PASSWORD})
    check_url = f"/registration/units/{mine_ids[0]}/check"
    headers = {"HX-Request": "true"}
    for code, prefix in zip(codes[:20], prefixes[:20], strict=True):  # warm up
        client.post(check_url, data={"hetu": code})
        client.post("/registration/search", data={"q": prefix}, headers=headers)
    check_ms = [timed(lambda c=c: client.post(check_url, data={"hetu": c})) for c in codes]
    search_ms = [timed(lambda p=p: client.post("/registration/search", data={"q": p}, headers=headers))
                 for p in prefixes]

    with app.app_context():
        floor_check = [timed(lambda h=h: db.session.execute(
            select(Customer.id, Customer.unit_id, Customer.status).where(Customer.hetu_hash == h)).first())
                       for h in hashes]
        floor_search = [timed(lambda p=p: db.session.execute(service.search_query(p, mine_ids).limit(50)).all())
                        for p in prefixes]
        dialect = db.engine.dialect.name
        db.session.remove()

    stack_floor = stack_floor_ms(url, hashes)
    assert all(client.post(check_url, data={"hetu": c}).status_code == 200 for c in codes[:5]), "the check was refused"

    print(json.dumps({"name": "registration.hetu_check_p50_ms", "value": round(statistics.median(check_ms), 3),
                      "unit": "ms",
                      "stack_floor": round(statistics.median(stack_floor), 3),
                      "ratio_to_stack_floor": round(statistics.median(check_ms) / statistics.median(stack_floor), 2),
                      "customers": CUSTOMERS, "database": dialect,
                      "includes": "login session, throttle, audit insert, commit"}))
    figures = [
        ("registration.hetu_check_p50_ms", statistics.median(check_ms), statistics.median(floor_check)),
        ("registration.name_search_p95_ms", percentile(search_ms, 95), percentile(floor_search, 95)),
    ]
    for name, value, floor in figures:
        print(json.dumps({"name": name, "value": round(value, 3), "unit": "ms", "floor": round(floor, 3),
                          "ratio": round(value / floor, 2) if floor else None, "customers": CUSTOMERS,
                          "database": dialect}))


def stack_floor_ms(url, hashes):
    """The stack floor: a bare Flask route on Flask-SQLAlchemy doing what the check must do at
    the least (the same indexed lookup, one audit insert, a commit), through the test client."""
    from flask import Flask, request
    from flask_sqlalchemy import SQLAlchemy

    bare = Flask("floor")
    bare.config["SQLALCHEMY_DATABASE_URI"] = app_url(url)
    bare_db = SQLAlchemy(bare)
    customers = Customer.__table__
    audit = db.metadata.tables["audit_event"]

    @bare.post("/floor")
    def floor():
        found = bare_db.session.execute(
            select(customers.c.id, customers.c.unit_id, customers.c.status)
            .where(customers.c.hetu_hash == request.form["h"])
        ).first()
        bare_db.session.execute(insert(audit).values(action="floor", object_type="Customer", at=datetime.now(),
                                                     object_id=str(found.id) if found else None, detail={}))
        bare_db.session.commit()
        return "found" if found else "new"

    client = bare.test_client()
    for h in hashes[:20]:
        client.post("/floor", data={"h": h})
    times = [timed(lambda h=h: client.post("/floor", data={"h": h})) for h in hashes]
    with bare.app_context():
        bare_db.engine.dispose()
    return times


def app_url(url):
    from config import sqlalchemy_url

    return sqlalchemy_url(url)


if __name__ == "__main__":
    main()
