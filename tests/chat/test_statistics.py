"""Chat statistics against a known fixture of conversations with fixed times: every figure is exact."""
import csv
import io
from datetime import date, timedelta

import pytest

from blueprints.chat import statistics
from blueprints.chat.models import (
    ChatQueue,
    Conversation,
    ConversationState,
    QueueTransfer,
)
from common.access import Role
from extensions import db
from tests.conftest import helsinki, logged_in


def later(moment, seconds):
    return moment + timedelta(seconds=seconds)


@pytest.fixture
def fixture(app, make_unit, make_user):
    mine, other = make_unit(), make_unit()
    ids = {
        "mine": mine,
        "aino": make_user("aino", (Role.CHAT_AGENT, mine)),
        "olli": make_user("olli", (Role.CHAT_AGENT, other)),
        "paula": make_user("paula", (Role.MAIN_USER, mine)),
        "sirpa": make_user("sirpa", (Role.SERVICE_ADMIN, None)),
    }
    with app.app_context():
        general = ChatQueue(unit_id=mine, name="General", is_open=True)
        specialist = ChatQueue(unit_id=mine, name="Specialist", is_open=False)
        elsewhere = ChatQueue(unit_id=other, name="Elsewhere", is_open=True)
        db.session.add_all([general, specialist, elsewhere])
        db.session.flush()
        n = iter(range(1000))

        def conversation(queue, joined, wait=None, length=None, state=ConversationState.ENDED, ended=None):
            served = later(joined, wait) if wait is not None else None
            c = Conversation(queue_id=queue.id, token=f"t{next(n)}", customer_name="C", state=state, joined_at=joined,
                             served_at=served,
                             ended_at=ended or (later(served, length) if length is not None else None))
            db.session.add(c)
            return c

        # Monday 2 March 2026, General: waits 60, 120, 300 (then transferred), 600 (still served), 60.
        conversation(general, helsinki(2026, 3, 2, 10, 0), wait=60, length=600)
        conversation(general, helsinki(2026, 3, 2, 10, 5), wait=120, length=180)
        # Served in General after 300 s, transferred after 300 s more; served in Specialist 600 s
        # after the transfer, for 1200 s.
        moved = conversation(specialist, helsinki(2026, 3, 2, 10, 10))
        moved.served_at, moved.ended_at = helsinki(2026, 3, 2, 10, 30), helsinki(2026, 3, 2, 10, 50)
        db.session.flush()
        db.session.add(QueueTransfer(conversation_id=moved.id, from_queue_id=general.id, to_queue_id=specialist.id,
                                     transferred_by_id=ids["aino"], note="", served_at=helsinki(2026, 3, 2, 10, 15),
                                     transferred_at=helsinki(2026, 3, 2, 10, 20)))
        # left before being served
        conversation(general, helsinki(2026, 3, 2, 11, 0), ended=helsinki(2026, 3, 2, 11, 4))
        conversation(general, helsinki(2026, 3, 2, 11, 30), state=ConversationState.REMOVED,
                     ended=helsinki(2026, 3, 2, 11, 31))
        conversation(general, helsinki(2026, 3, 2, 12, 0), wait=600, state=ConversationState.SERVED)
        conversation(general, helsinki(2026, 3, 2, 23, 59, 30), wait=60, length=300)  # served after midnight
        # Wednesday 4 March, General: eleven chats of 120 s; waits 10..100 s and one of 1000 s.
        # The long one joined at 00:30 local time, still 3 March in UTC.
        for wait in range(10, 101, 10):
            conversation(general, helsinki(2026, 3, 4, 9, 0), wait=wait, length=120)
        conversation(general, helsinki(2026, 3, 4, 0, 30), wait=1000, length=120)
        # Thursday 5 March 23:50: served after 120 s, transferred at 00:10 on Friday, still waiting.
        late = conversation(specialist, helsinki(2026, 3, 5, 23, 50), state=ConversationState.WAITING)
        db.session.flush()
        db.session.add(QueueTransfer(conversation_id=late.id, from_queue_id=general.id, to_queue_id=specialist.id,
                                     transferred_by_id=ids["aino"], note="", served_at=helsinki(2026, 3, 5, 23, 52),
                                     transferred_at=helsinki(2026, 3, 6, 0, 10)))
        # Another library's queue: seen only by its own staff and service admins.
        conversation(elsewhere, helsinki(2026, 3, 2, 10, 0), wait=30, length=60)
        db.session.commit()
        ids.update(general=general.id, specialist=specialist.id, elsewhere=elsewhere.id)
    return ids


def rows_of(figures):
    return {(r.day.isoformat(), r.queue.name): (r.chats, r.median_wait, r.p90_wait, r.median_length, r.left_unserved,
                                                r.transfers_out) for r in figures.rows}


def test_figures_per_queue_and_local_day_are_exact(app, fixture):
    with app.app_context():
        queues = [db.session.get(ChatQueue, fixture[k]) for k in ("general", "specialist")]
        figures = statistics.figures(queues, date(2026, 3, 1), date(2026, 3, 6))
        assert rows_of(figures) == {
            # waits 60, 60, 120, 300, 600: median 120, p90 the 5th of 5; lengths 180, 300, 300, 600.
            ("2026-03-02", "General"): (5, 120, 600, 300, 1, 1),
            ("2026-03-02", "Specialist"): (1, 600, 600, 1200, 0, 0),
            # waits 10..100 and 1000: median 60, p90 the 10th of 11 (100).
            ("2026-03-04", "General"): (11, 60, 100, 120, 0, 0),
            ("2026-03-05", "General"): (1, 120, 120, 1080, 0, 0),
            # The transfer after midnight counts on the day it was made.
            ("2026-03-06", "General"): (0, None, None, None, 0, 1),
        }
        assert figures.days == [(date(2026, 3, 1), 0), (date(2026, 3, 2), 6), (date(2026, 3, 3), 0),
                                (date(2026, 3, 4), 11), (date(2026, 3, 5), 1), (date(2026, 3, 6), 0)]
        assert (figures.chats, figures.left_unserved, figures.transfers_out, figures.peak) == (18, 1, 2, 11)


def test_the_period_is_in_local_dates(app, fixture):
    with app.app_context():
        general = db.session.get(ChatQueue, fixture["general"])
        assert rows_of(statistics.figures([general], date(2026, 3, 3), date(2026, 3, 3))) == {}
        only_4th = statistics.figures([general], date(2026, 3, 4), date(2026, 3, 5))
        assert rows_of(only_4th)[("2026-03-04", "General")][0] == 11
        assert only_4th.transfers_out == 0


def test_median_and_nearest_rank_percentile():
    assert statistics.median([]) is None and statistics.percentile([], 0.9) is None
    assert statistics.median([30, 10, 20, 40]) == 25
    assert statistics.percentile([5], 0.9) == 5
    assert statistics.percentile(list(range(1, 21)), 0.9) == 18
    assert statistics.percentile(list(range(1, 22)), 0.9) == 19


def csv_rows(response):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_csv_has_one_line_per_queue_and_day(client, auth, fixture):
    auth.login("aino")
    response = client.get("/chat/statistics.csv?start=2026-03-01&end=2026-03-06")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="chat-statistics-2026-03-01-2026-03-06.csv"' in response.headers["Content-Disposition"]
    assert csv_rows(response) == [
        ["day", "queue", "unit", "chats", "median_wait_seconds", "p90_wait_seconds", "median_chat_seconds",
         "left_before_served", "transfers_out", "helped_yes", "helped_partly", "helped_no"],
        ["2026-03-02", "General", "Unit 1", "5", "120", "600", "300", "1", "1", "0", "0", "0"],
        ["2026-03-02", "Specialist", "Unit 1", "1", "600", "600", "1200", "0", "0", "0", "0", "0"],
        ["2026-03-04", "General", "Unit 1", "11", "60", "100", "120", "0", "0", "0", "0", "0"],
        ["2026-03-05", "General", "Unit 1", "1", "120", "120", "1080", "0", "0", "0", "0", "0"],
        ["2026-03-06", "General", "Unit 1", "0", "", "", "", "0", "1", "0", "0", "0"],
    ]
    url = "/chat/statistics.csv?start=2026-03-01&end=2026-03-06"
    one_queue = csv_rows(client.get(f"{url}&queue={fixture['specialist']}"))
    assert [r[1] for r in one_queue[1:]] == ["Specialist"]


def test_each_sees_the_queues_of_their_own_units_and_the_service_admin_all(app, fixture):
    def queues_seen(username):
        client = logged_in(app, username)
        return {r[1] for r in csv_rows(client.get("/chat/statistics.csv?start=2026-03-01&end=2026-03-06"))[1:]}

    assert queues_seen("aino") == {"General", "Specialist"}
    assert queues_seen("paula") == {"General", "Specialist"}  # a main user of the library
    assert queues_seen("olli") == {"Elsewhere"}
    assert queues_seen("sirpa") == {"General", "Specialist", "Elsewhere"}
    olli = logged_in(app, "olli")
    url = "/chat/statistics.csv?start=2026-03-01&end=2026-03-06"
    assert olli.get(f"{url}&queue={fixture['general']}").status_code == 422


def test_the_page_shows_the_chart_and_the_same_figures_in_tables(client, auth, fixture):
    auth.login("aino")
    response = client.get("/chat/statistics?start=2026-03-01&end=2026-03-06")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<svg class="chat-chart" role="img" aria-labelledby="chat-chart-title chat-chart-desc"' in html
    assert '<title id="chat-chart-title">Chats per day</title>' in html and 'id="chat-chart-desc"' in html
    assert html.count('class="bar"') == 6
    assert "<title>4 Mar 2026: 11</title>" in html  # the English way, never US month/day
    assert ">4 Mar</text>" in html
    assert "<td>2:00</td><td>10:00</td><td>5:00</td>" in html  # 2 March, General: 120 s, 600 s, 300 s
    assert "18 chats" in html and "2 transfers out" in html
    assert "/chat/statistics.csv?start=2026-03-01&amp;end=2026-03-06" in html
    assert "style=" not in html.split("<main")[1]


@pytest.mark.parametrize("query, message", [
    ("start=yesterday&end=2026-03-06", "Give a date as YYYY-MM-DD."),
    ("start=2026-03-06&end=2026-03-01", "The end date is before the start date."),
    ("start=2025-01-01&end=2026-03-06", "Choose at most 366 days."),
    ("start=2026-03-01&end=2026-03-06&queue=999999", "Not a valid choice."),
])
def test_bad_input_is_refused_at_the_field_and_kept(client, auth, fixture, query, message):
    auth.login("aino")
    page = client.get(f"/chat/statistics?{query}")
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert message in html and 'aria-invalid="true"' in html and "<svg" not in html
    if "yesterday" in query:
        assert 'value="yesterday"' in html
    assert client.get(f"/chat/statistics.csv?{query}").status_code == 422


def test_without_a_period_the_last_30_days_are_shown(client, auth, fixture, app):
    auth.login("paula")
    html = client.get("/chat/statistics").get_data(as_text=True)
    assert html.count('class="bar"') == 30
    with app.app_context():
        start, end = statistics.default_period()
    assert f'value="{start.isoformat()}"' in html and f'value="{end.isoformat()}"' in html


def test_the_statistics_are_linked_from_the_chat_desk_and_for_main_users_from_the_navigation(client, auth, fixture):
    auth.login("aino")
    assert 'href="/chat/statistics"' in client.get("/chat/").get_data(as_text=True)
    client.post("/logout")
    auth.login("paula")
    assert 'href="/chat/statistics"' in client.get("/").get_data(as_text=True)
