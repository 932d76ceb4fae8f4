"""Statistics against a known fixture: every count is exact."""
import csv
import io
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from blueprints.guide import service
from blueprints.guide.models import (
    GuidanceSession,
    ItemGroup,
    LimitMet,
    Outcome,
    Referral,
    SessionTopic,
)
from common.access import Role
from extensions import db
from tests.conftest import helsinki, library_today

HELSINKI = ZoneInfo("Europe/Helsinki")



@pytest.fixture
def fixture_units(app, make_unit, make_user):
    mine, other = make_unit(), make_unit()
    guide = make_user("opas", (Role.GUIDE, mine))
    make_user("boss", (Role.SERVICE_ADMIN, None))
    with app.app_context():
        version = service.ensure_first_version()
        never = {i.key: i.id for i in version.group(ItemGroup.NEVER)}
        rows = [
            # unit, local start, minutes, topics, device, outcome, limits
            (mine, (2026, 3, 2, 10, 0), 5, ["email"], "phone", Outcome.SOLVED, []),
            (mine, (2026, 3, 4, 12, 0), 25, ["banking", "email"], "phone", Outcome.REFERRED_SERVICE_PROVIDER,
             [("never-2", Referral.SERVICE_PROVIDER)]),
            (mine, (2026, 3, 10, 9, 0), 60, ["device_settings"], "laptop", Outcome.REFERRED_REPAIR_SHOP,
             [("never-3", Referral.REPAIR_SHOP)]),
            # 31 March 23:30 in Helsinki is still March locally though it is 20:30 UTC.
            (mine, (2026, 3, 31, 23, 30), 15, ["e_resources"], "tablet", Outcome.PARTLY_SOLVED, []),
            (mine, (2026, 4, 1, 0, 30), 10, ["installing_apps"], "phone", Outcome.SOLVED,
             [("never-4", Referral.LIBRARY_SERVICE)]),
            (other, (2026, 3, 5, 10, 0), 30, ["email"], "phone", Outcome.SOLVED, []),
        ]
        for unit, start, minutes, topics, device, outcome, limits in rows:
            s = GuidanceSession(
                unit_id=unit, guide_id=guide, version=version, device=device, customer_language="fi",
                started_at=helsinki(*start), ended_at=helsinki(*start), duration_minutes=minutes, outcome=outcome,
                topics=[SessionTopic(topic=t) for t in topics],
            )
            s.limits_met = [LimitMet(item_id=never[k], referred_to=r) for k, r in limits]
            if start == (2026, 3, 4, 12, 0):
                s.never_1_exception_at = helsinki(*start)  # the customer's disability: done on their behalf
            db.session.add(s)
        # In progress: not counted.
        db.session.add(GuidanceSession(unit_id=mine, guide_id=guide, version=version, device="phone",
                                       customer_language="fi", started_at=helsinki(2026, 3, 3, 10, 0),
                                       topics=[SessionTopic(topic="email")]))
        db.session.commit()
    return mine, other


def test_statistics_of_a_unit_count_exactly(app, fixture_units):
    mine, _ = fixture_units
    with app.app_context():
        figures = service.statistics([mine], date(2026, 3, 1), date(2026, 5, 1), HELSINKI)
    assert figures.total == 5
    assert figures.total_minutes == 115
    assert figures.months == {"2026-03": 4, "2026-04": 1}
    assert figures.weeks == {"2026-W10": 2, "2026-W11": 1, "2026-W14": 2}
    assert figures.topics == {"email": 2, "e_resources": 1, "banking": 1, "installing_apps": 1, "device_settings": 1}
    assert figures.outcomes == {"solved": 2, "partly_solved": 1, "referred_service_provider": 1,
                                "referred_repair_shop": 1}
    assert figures.devices == {"phone": 3, "tablet": 1, "laptop": 1}
    assert figures.durations == {"0-9": 1, "10-19": 2, "20-29": 1, "60+": 1}
    assert figures.limits == {"never-2": 1, "never-3": 1, "never-4": 1}
    assert figures.referrals == {"service_provider": 1, "repair_shop": 1}
    assert figures.limit_referrals == {"service_provider": 1, "repair_shop": 1, "library_service": 1}
    assert figures.sessions_with_limit == 3


def test_the_period_is_in_local_dates(app, fixture_units):
    mine, _ = fixture_units
    with app.app_context():
        march = service.statistics([mine], date(2026, 3, 1), date(2026, 4, 1), HELSINKI)
    assert march.total == 4


def test_a_day_of_the_statistics_begins_at_the_librarys_midnight(client, auth, fixture_units):
    # The session begun at 0.30 on 1 April in Helsinki (21.30 UTC on 31 March) is 1 April's, the
    # one at 23.30 on 31 March is 31 March's. Flask-Babel's pytz zone, attached by
    # datetime.combine(), put that midnight at 22.20 UTC and both sessions in March.
    auth.login("opas")

    def sessions_on(day):
        response = client.get(f"/guide/statistics.csv?from={day}&to={day}")
        rows = {(r["section"], r["key"]): int(r["count"])
                for r in csv.DictReader(io.StringIO(response.get_data(as_text=True)))}
        return rows[("total", "sessions")]

    assert sessions_on("2026-04-01") == 1
    assert sessions_on("2026-03-31") == 1


def test_the_page_and_csv_for_a_guide_show_only_their_unit(client, auth, fixture_units):
    mine, other = fixture_units
    auth.login("opas")
    page = client.get("/guide/statistics?from=2026-03-01&to=2026-04-30")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "<svg" in body and 'class="bar"' in body and "style=" not in body.split("<main")[1]
    response = client.get("/guide/statistics.csv?from=2026-03-01&to=2026-04-30")
    assert response.mimetype == "text/csv"
    rows = {(r["section"], r["key"]): int(r["count"])
            for r in csv.DictReader(io.StringIO(response.get_data(as_text=True)))}
    assert rows[("total", "sessions")] == 5
    assert rows[("months", "2026-03")] == 4
    assert rows[("outcomes", "referred_service_provider")] == 1
    assert rows[("total", "sessions_with_never_1_exception")] == 1
    assert "NEVER rule 1's exception (illness or disability) applied in 1 session." in body
    assert client.get(f"/guide/statistics?unit={other}").status_code == 404


def test_the_month_and_week_tables_name_them_in_the_users_language(client, auth, fixture_units):
    auth.login("opas")
    body = client.get("/guide/statistics?from=2026-03-01&to=2026-04-30").get_data(as_text=True)
    tables = body.split('class="guide-figures"')[1]
    assert '<th scope="row">March 2026</th><td>4</td>' in tables
    assert '<th scope="row">week 10, 2026</th><td>2</td>' in tables  # 2 and 4 March; the 10th is week 11
    assert "2026-03" not in tables and "2026-W" not in tables


def test_a_service_admin_sees_all_units(client, auth, fixture_units):
    auth.login("boss")
    response = client.get("/guide/statistics.csv?from=2026-03-01&to=2026-04-30")
    rows = {(r["section"], r["key"]): int(r["count"])
            for r in csv.DictReader(io.StringIO(response.get_data(as_text=True)))}
    assert rows[("total", "sessions")] == 6
    assert rows[("topics", "email")] == 3


def test_bad_dates_are_refused(client, auth, fixture_units):
    auth.login("opas")
    response = client.get("/guide/statistics?from=yesterday")
    assert response.status_code == 422
    assert "YYYY-MM-DD" in response.get_data(as_text=True)
    assert client.get("/guide/statistics.csv?from=2026-05-01&to=2026-04-01").status_code == 422


def test_an_ended_session_is_counted_this_month(client, start):
    sid = start(topics=("banking",))
    client.post(f"/guide/sessions/{sid}/end", data={"outcome": "referred_service_provider", "duration_minutes": "9"})
    today = library_today()
    response = client.get(f"/guide/statistics.csv?from={today.replace(day=1).isoformat()}&to={today.isoformat()}")
    rows = {(r["section"], r["key"]): int(r["count"])
            for r in csv.DictReader(io.StringIO(response.get_data(as_text=True)))}
    assert rows[("total", "sessions")] == 1
    assert rows[("outcomes", "referred_service_provider")] == 1


def test_this_month_and_today_are_the_librarys_even_when_the_servers_calendar_says_otherwise(client, start,
                                                                                             a_zone_on_another_day):
    today = a_zone_on_another_day
    sid = start(topics=("banking",))
    client.post(f"/guide/sessions/{sid}/end", data={"outcome": "solved", "duration_minutes": "9"})
    csv_today = client.get(f"/guide/statistics.csv?from={today.isoformat()}&to={today.isoformat()}")
    csv_today = csv_today.get_data(as_text=True)
    rows = {(r["section"], r["key"]): int(r["count"]) for r in csv.DictReader(io.StringIO(csv_today))}
    assert rows[("total", "sessions")] == 1
    # Without dates the statistics run to the library's today, which holds the session.
    default = client.get("/guide/statistics.csv").get_data(as_text=True)
    rows = {(r["section"], r["key"]): int(r["count"]) for r in csv.DictReader(io.StringIO(default))}
    assert rows[("total", "sessions")] == 1
