"""Finding an earlier conversation: who may search the kept transcripts, what is found (never what
the retention removed), and the audit of every search and every opening."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from blueprints.chat import retention
from blueprints.chat.models import ChatMessage, ChatQueue, Conversation, ConversationState, Rating, Sender
from common.access import Role
from common.clock import utcnow
from common.mail import OutboxMail
from extensions import db
from tests.conftest import audited, helsinki, library_today, logged_in


@pytest.fixture
def kept(app, make_unit, make_user):
    """Library L with a queue that keeps transcripts 30 days and names 20 days, one that keeps
    none, agents aino (L) and olli (L2, with a kept queue of its own), main user paula (L), admin
    sirpa; and a chat-making helper."""
    library, other = make_unit(name="Library L"), make_unit(name="Library L2")
    ids = {
        "aino": make_user("aino", (Role.CHAT_AGENT, library)),
        "olli": make_user("olli", (Role.CHAT_AGENT, other)),
        "paula": make_user("paula", (Role.MAIN_USER, library)),
        "sirpa": make_user("sirpa", (Role.SERVICE_ADMIN, None)),
    }
    with app.app_context():
        queues = {
            "neuvonta": ChatQueue(unit_id=library, name="Neuvonta", keep_days=30, anonymise_after_days=20),
            "unkept": ChatQueue(unit_id=library, name="Pikaneuvonta", keep_days=0),
            "elsewhere": ChatQueue(unit_id=other, name="Muualla", keep_days=30),
        }
        db.session.add_all(queues.values())
        db.session.commit()
        ids.update({name: q.id for name, q in queues.items()})
    return ids


def make_chat(app, queue_id, name, lines, ended_days_ago=1, state=ConversationState.ENDED, **values):
    """An ended chat of `queue_id` with the customer's and the agent's lines; its id."""
    with app.app_context():
        ended = utcnow() - timedelta(days=ended_days_ago)
        c = Conversation(queue_id=queue_id, token=f"t-{name}-{utcnow().timestamp()}-{len(lines)}",
                         customer_name=name, state=state, agent_name="Aino",
                         joined_at=values.pop("joined_at", ended - timedelta(minutes=20)),
                         served_at=ended - timedelta(minutes=15),
                         ended_at=None if state in (ConversationState.WAITING, ConversationState.SERVED) else ended,
                         **values)
        db.session.add(c)
        db.session.flush()
        for n, body in enumerate(lines):
            sender = Sender.CUSTOMER if n % 2 == 0 else Sender.AGENT
            db.session.add(ChatMessage(conversation_id=c.id, sender=sender, body=body,
                                       author_name=name if sender == Sender.CUSTOMER else "Aino"))
        db.session.add(ChatMessage(conversation_id=c.id, sender=Sender.SYSTEM, body="ended", author_name="Aino"))
        db.session.commit()
        return c.id


def search(browser, **fields):
    return browser.post("/chat/transcripts", data={"text": "", "queue": "", "start": "", "end": "", **fields})


def found(response):
    """The ids of the conversations a search's page links to."""
    html = response.get_data(as_text=True)
    return {int(part.split('"')[0]) for part in html.split('href="/chat/transcripts/')[1:]}


def test_the_queues_agents_and_service_admins_search_and_open_only_what_they_may(app, kept):
    mine = make_chat(app, kept["neuvonta"], "Toni", ["Tulostin ei toimi", "Kokeile uudelleen"])
    theirs = make_chat(app, kept["elsewhere"], "Ville", ["Tulostin jumissa"])

    aino, olli, sirpa = (logged_in(app, name) for name in ("aino", "olli", "sirpa"))
    assert found(search(aino, text="tulostin")) == {mine}
    assert found(search(olli, text="tulostin")) == {theirs}
    assert found(search(sirpa, text="tulostin")) == {mine, theirs}

    # The queue list offers only the queues each may search; another's queue is refused at the field.
    page = aino.get("/chat/transcripts").get_data(as_text=True)
    assert "Neuvonta (Library L)" in page and "Muualla" not in page and "Pikaneuvonta" not in page
    refused = search(aino, text="tulostin", queue=kept["elsewhere"])
    assert refused.status_code == 422 and "Not a valid choice." in refused.get_data(as_text=True)

    assert aino.get(f"/chat/transcripts/{mine}").status_code == 200
    assert sirpa.get(f"/chat/transcripts/{theirs}").status_code == 200
    assert olli.get(f"/chat/transcripts/{mine}").status_code == 404  # another unit's looks missing
    assert olli.post(f"/chat/transcripts/{mine}/email",
                     data={"transcript-email": "x@example.org", "transcript-language": "en"}).status_code == 404


def test_nobody_else_may_search(app, kept, client):
    """(Every other role: tests/matrix/chat.py.)"""
    chat = make_chat(app, kept["neuvonta"], "Toni", ["Tulostin ei toimi"])
    paula = logged_in(app, "paula")  # a main user of the library sees its statistics, not its chats

    assert paula.get("/chat/transcripts").status_code == 403
    assert search(paula, text="tulostin").status_code == 403
    assert paula.get(f"/chat/transcripts/{chat}").status_code == 403
    assert client.get("/chat/transcripts").status_code == 302  # not logged in: to the login page
    assert audited(app, "chat.transcripts_searched") == []


def test_a_queue_that_keeps_nothing_is_not_searched(app, kept):
    unkept = make_chat(app, kept["unkept"], "Toni", ["Tulostin ei toimi"])
    aino = logged_in(app, "aino")

    assert found(search(aino, text="tulostin")) == set()
    assert aino.get(f"/chat/transcripts/{unkept}").status_code == 404


def test_text_is_found_in_lines_and_names_ignoring_case_every_word_anywhere(app, kept):
    printer = make_chat(app, kept["neuvonta"], "Toni Äijälä", ["ÄÄNIKIRJA ei aukea", "Päivitä sovellus"])
    other = make_chat(app, kept["neuvonta"], "Ville", ["Äänikirjan laina", "100% varma_tieto"])
    aino = logged_in(app, "aino")

    assert found(search(aino, text="äänikirja")) == {printer, other}
    assert found(search(aino, text="äänikirja päivitä")) == {printer}  # each word, in any line
    assert found(search(aino, text="äijälä")) == {printer}  # the customer's name
    assert found(search(aino, text="100%")) == {other}  # % and _ are plain characters
    assert found(search(aino, text="a_t")) == {other}
    assert found(search(aino, text="ended")) == set()  # a system line's code is no text
    assert found(search(aino)) == {printer, other}  # no text: every kept chat
    html = search(aino, text="päivitä").get_data(as_text=True)
    assert "Päivitä sovellus" in html and "1 conversation found" in html


def test_queue_and_dates_narrow_the_search(app, kept):
    with app.app_context():
        second = ChatQueue(unit_id=db.session.get(ChatQueue, kept["neuvonta"]).unit_id, name="Opastus", keep_days=30)
        db.session.add(second)
        db.session.commit()
        second_id = second.id
    day = library_today() - timedelta(days=5)
    # The library's days: 23:30 on `day` in Helsinki, and 00:30 two days later, which is still
    # the day before in UTC.
    late = make_chat(app, kept["neuvonta"], "Toni", ["Hei"], joined_at=helsinki(day.year, day.month, day.day, 23, 30))
    after = day + timedelta(days=2)
    early = make_chat(app, second_id, "Ville", ["Hei"], joined_at=helsinki(after.year, after.month, after.day, 0, 30))
    aino = logged_in(app, "aino")

    assert found(search(aino, queue=second_id)) == {early}
    assert found(search(aino, start=after.isoformat(), end=after.isoformat())) == {early}
    assert found(search(aino, start=day.isoformat(), end=day.isoformat())) == {late}
    assert found(search(aino, end=(day + timedelta(days=1)).isoformat())) == {late}
    assert found(search(aino, start=(day + timedelta(days=1)).isoformat())) == {early}


@pytest.mark.parametrize("fields, field, message", [
    ({"start": "eilen"}, "start", "Give a date as YYYY-MM-DD."),
    ({"end": "2026-02-30"}, "end", "Give a date as YYYY-MM-DD."),
    ({"start": "2026-03-02", "end": "2026-03-01"}, "end", "The end date is before the start date."),
    ({"text": "x" * 201}, "text", "Search for at most 200 characters."),
])
def test_bad_input_is_refused_at_its_field_kept_and_not_searched(app, kept, fields, field, message):
    make_chat(app, kept["neuvonta"], "Toni", ["Hei"])
    aino = logged_in(app, "aino")

    refused = search(aino, **fields)

    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert f'id="{field}-error"' in html and message in html and 'aria-invalid="true"' in html
    assert f'value="{fields[field]}"' in html
    assert "Search results" not in html
    assert audited(app, "chat.transcripts_searched") == []


def test_results_come_a_page_at_a_time_each_page_a_search_audited(app, kept):
    ids = [make_chat(app, kept["neuvonta"], f"Asiakas {n}", ["Lainan uusinta"], ended_days_ago=1 + n / 100)
           for n in range(25)]
    aino = logged_in(app, "aino")

    first = search(aino, text="uusinta")
    second = search(aino, text="uusinta", page="2")

    assert len(found(first)) == 20 and len(found(second)) == 5
    assert found(first) | found(second) == set(ids)
    assert "Page 1 of 2" in first.get_data(as_text=True) and 'name="page" value="2"' in first.get_data(as_text=True)
    events = audited(app, "chat.transcripts_searched")
    assert [(e.detail["page"], e.detail["found"], e.detail["text"]) for e in events] == [(1, 25, "uusinta"),
                                                                                       (2, 25, "uusinta")]


def test_every_search_and_every_opening_is_audited_and_the_transcript_is_emailed_as_today(app, kept):
    chat = make_chat(app, kept["neuvonta"], "Toni", ["Miten uusin lainat?", "Näin uusit."],
                     rating=Rating.PARTLY, rating_comment="Melkein")
    aino = logged_in(app, "aino")

    search(aino, text="uusin", queue=kept["neuvonta"], start="2020-01-01")
    page = aino.get(f"/chat/transcripts/{chat}")
    aino.get(f"/chat/transcripts/{chat}")
    sent = aino.post(f"/chat/transcripts/{chat}/email",
                     data={"transcript-email": "toni@example.org", "transcript-language": "fi"})

    html = page.get_data(as_text=True)
    assert "Miten uusin lainat?" in html and "Näin uusit." in html and "Partly" in html and "Melkein" in html
    assert "hx-post" not in html.split("<main")[1]  # read-only: nothing but the mail form
    assert sent.status_code == 200 and "The transcript has been sent to toni@example.org." in sent.text
    with app.app_context():
        [searched] = audited(app, "chat.transcripts_searched")
        assert searched.actor_id == kept["aino"]
        assert searched.detail == {"queue": kept["neuvonta"], "text": "uusin", "start": "2020-01-01", "end": None,
                                   "found": 1, "page": 1}
        assert searched.unit_id == db.session.get(ChatQueue, kept["neuvonta"]).unit_id
        opened = audited(app, "chat.transcript_opened")
        assert [(e.actor_id, e.object_type, e.object_id) for e in opened] == [
            (kept["aino"], "Conversation", str(chat))] * 2
        [mailed] = audited(app, "chat.transcript_sent")
        assert mailed.detail == {"recipient": "toni@example.org", "kept": True}
        mail = db.session.scalar(select(OutboxMail))
        assert mail.recipient == "toni@example.org"
        assert mail.subject == "Keskustelusi kirjaston kanssa: Neuvonta"
        # The chat itself is a record now: mailing it adds no line.
        assert db.session.scalar(select(ChatMessage).where(ChatMessage.body == "transcript_sent")) is None


def test_a_bad_address_is_refused_at_the_field_and_nothing_is_sent(app, kept):
    chat = make_chat(app, kept["neuvonta"], "Toni", ["Hei"])
    aino = logged_in(app, "aino")

    refused = aino.post(f"/chat/transcripts/{chat}/email",
                        data={"transcript-email": "toni@", "transcript-language": "en"})

    assert refused.status_code == 422 and 'id="transcript-email-error"' in refused.text
    assert 'value="toni@"' in refused.text
    assert audited(app, "chat.transcript_sent") == []


def test_purged_and_anonymised_content_is_never_found(app, kept):
    neuvonta = kept["neuvonta"]  # keeps 30 days, names 20 days
    fresh = make_chat(app, neuvonta, "Toni Virtanen", ["Hei, olen Toni ja tulostin ei toimi"], ended_days_ago=5)
    to_anonymise = make_chat(app, neuvonta, "Toni Virtanen", ["Toni täällä: tulostin taas"], ended_days_ago=25)
    to_purge = make_chat(app, neuvonta, "Toni Virtanen", ["Toni: tulostin vanha juttu"], ended_days_ago=40)
    open_chat = make_chat(app, neuvonta, "Toni Virtanen", ["Toni: tulostin nyt"], state=ConversationState.SERVED)
    aino = logged_in(app, "aino")

    # Before the purge has run: the search applies the queue's retention itself.
    assert found(search(aino, text="tulostin")) == {fresh}
    assert found(search(aino, text="toni")) == {fresh}
    for hidden in (to_anonymise, to_purge, open_chat):
        assert aino.get(f"/chat/transcripts/{hidden}").status_code == 404

    with app.app_context():
        retention.purge(utcnow())
    # Anonymised: found by what was said, never by the name, which is nowhere in it any more.
    assert found(search(aino, text="tulostin")) == {fresh, to_anonymise}
    assert found(search(aino, text="toni")) == {fresh}
    assert found(search(aino, text="virtanen")) == {fresh}
    page = aino.get(f"/chat/transcripts/{to_anonymise}").get_data(as_text=True)
    assert "Toni" not in page.split("<main")[1] and "*** täällä: tulostin taas" in page
    # Purged: nothing left to find or open.
    assert aino.get(f"/chat/transcripts/{to_purge}").status_code == 404
    assert found(search(aino)) == {fresh, to_anonymise}


def test_a_queue_that_stops_keeping_transcripts_hides_them_at_once(app, kept):
    chat = make_chat(app, kept["neuvonta"], "Toni", ["Tulostin"], ended_days_ago=2)
    aino = logged_in(app, "aino")
    with app.app_context():
        db.session.get(ChatQueue, kept["neuvonta"]).keep_days = 1
        db.session.commit()

    assert found(search(aino, text="tulostin")) == set()
    assert aino.get(f"/chat/transcripts/{chat}").status_code == 404


def test_a_chat_ended_exactly_at_the_boundary_is_still_found(app, kept, monkeypatch):
    chat = make_chat(app, kept["neuvonta"], "Toni", ["Tulostin"], ended_days_ago=0)
    with app.app_context():
        ended = db.session.get(Conversation, chat).ended_at
    boundary = ended + timedelta(days=20)  # the day its name goes, to the microsecond
    monkeypatch.setattr("blueprints.chat.transcripts.utcnow", lambda: boundary)
    aino = logged_in(app, "aino")

    assert found(search(aino, text="toni")) == {chat}
    monkeypatch.setattr("blueprints.chat.transcripts.utcnow", lambda: boundary + timedelta(microseconds=1))
    assert found(search(aino, text="toni")) == set()


def test_the_desk_and_the_statistics_link_to_the_search_for_agents(app, kept):
    aino = logged_in(app, "aino")
    page = aino.get("/chat/statistics").get_data(as_text=True)
    assert 'href="/chat/transcripts"' in page and "Find an earlier conversation" in page
    paula = logged_in(app, "paula")
    assert 'href="/chat/transcripts"' not in paula.get("/chat/statistics").get_data(as_text=True)
