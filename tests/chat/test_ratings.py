"""The customer's rating of a chat: asked when a served chat ends in a queue that asks it, answered
once by the customer of that chat alone, counted in the statistics, and never tied to the
customer's name after anonymisation."""
import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from blueprints.chat import retention, service, statistics
from blueprints.chat.models import ChatQueue, Conversation, ConversationState, Rating
from common.clock import utcnow
from extensions import db
from tests.chat.conftest import conversation, join, on_duty, user
from tests.conftest import helsinki, logged_in

QUESTION = "Did you get the help you needed?"


@pytest.fixture
def asking(app, desk):
    """The desk's queue asks its customers to rate a chat that ended."""
    with app.app_context():
        db.session.get(ChatQueue, desk["queue"]).asks_rating = True
        db.session.commit()
    return desk


def served_and_ended(app, client, desk, name="Toni"):
    """A customer joins, Aino serves and ends the chat; the id of the conversation."""
    join(client, desk, name)
    with app.app_context():
        conversation_id = db.session.scalar(select(Conversation.id).where(Conversation.customer_name == name))
        on_duty(desk, "aino")
        service.claim(conversation_id, user(desk["aino"]))
        service.end(conversation(conversation_id), user(desk["aino"]))
    return conversation_id


def answer(client, **data):
    return client.post("/chat/customer/rating", data=data, headers={"HX-Request": "true"})


def stored(app, conversation_id):
    with app.app_context():
        c = conversation(conversation_id)
        return c.rating, c.rating_comment


def test_a_queue_asks_nobody_by_default(app, client, desk):
    with app.app_context():
        assert db.session.get(ChatQueue, desk["queue"]).asks_rating is False
    conversation_id = served_and_ended(app, client, desk)

    page = client.get("/chat/customer/conversation").get_data(as_text=True)

    assert "The chat has ended." in page and QUESTION not in page
    assert answer(client, answer="yes").status_code == 409
    assert stored(app, conversation_id) == (None, None)


def test_the_service_admin_turns_the_question_on_in_the_queue_form(app, desk, make_user):
    make_user("sirpa", ("service_admin", None))
    admin = logged_in(app, "sirpa")
    form = admin.get(f"/chat/admin/queues/{desk['queue']}").get_data(as_text=True)
    assert "Ask customers whether they got the help they needed" in form

    saved = admin.post(f"/chat/admin/queues/{desk['queue']}", data={
        "name": "Neuvonta", "unit": desk["library"], "is_open": "y", "waiting_message": "", "keep_days": "0",
        "asks_rating": "y"})

    assert saved.status_code == 302
    with app.app_context():
        assert db.session.get(ChatQueue, desk["queue"]).asks_rating is True


def test_the_customer_of_the_ended_chat_answers_once(app, client, asking):
    conversation_id = served_and_ended(app, client, asking)

    page = client.get("/chat/customer/conversation").get_data(as_text=True)
    assert QUESTION in page and 'type="radio" value="partly"' in page

    thanked = answer(client, answer="partly", comment="Sain vastauksen, mutta en kaikkeen.")
    assert thanked.status_code == 200 and "Thank you for your answer." in thanked.get_data(as_text=True)
    assert stored(app, conversation_id) == (Rating.PARTLY, "Sain vastauksen, mutta en kaikkeen.")

    # Once: the question is gone from the page, and a second answer changes nothing.
    page = client.get("/chat/customer/conversation").get_data(as_text=True)
    assert QUESTION not in page and "Thank you for your answer." in page
    assert answer(client, answer="no").status_code == 409
    assert stored(app, conversation_id) == (Rating.PARTLY, "Sain vastauksen, mutta en kaikkeen.")


def test_a_second_tab_answering_afterwards_is_refused(app, client, asking):
    conversation_id = served_and_ended(app, client, asking)
    client.get("/chat/customer/conversation")
    with client.session_transaction() as saved:
        copied = dict(saved)
    other_tab = app.test_client()
    with other_tab.session_transaction() as session:
        session.update(copied)

    assert answer(client, answer="yes").status_code == 200
    refused = answer(other_tab, answer="no")

    assert refused.status_code == 409 and "You have already answered." in refused.get_data(as_text=True)
    assert stored(app, conversation_id) == (Rating.YES, None)


def test_nobody_but_the_customer_of_that_chat_may_answer(app, client, asking):
    conversation_id = served_and_ended(app, client, asking)
    client.get("/chat/customer/conversation")
    stranger, agent = app.test_client(), logged_in(app, "aino")
    # Another customer, waiting in the same queue, has a chat but not that one.
    join(stranger, asking, "Ville")

    for browser in (stranger, agent):
        refused = answer(browser, answer="no")
        assert refused.status_code == 409 and "There is no chat to answer about." in refused.get_data(as_text=True)
    assert stored(app, conversation_id) == (None, None)


def test_leaving_a_served_chat_asks_on_the_page_the_customer_comes_back_to(app, client, asking):
    join(client, asking)
    with app.app_context():
        conversation_id = db.session.scalar(select(Conversation.id))
        on_duty(asking, "aino")
        service.claim(conversation_id, user(asking["aino"]))

    back = client.post("/chat/customer/leave", follow_redirects=True).get_data(as_text=True)

    assert "You have left the chat." in back and QUESTION in back and "Join the queue" in back
    # Without a script the form posts as a page and comes back to the join page with thanks.
    thanked = client.post("/chat/customer/rating", data={"answer": "yes"}, follow_redirects=True)
    assert "Thank you for your answer." in thanked.get_data(as_text=True)
    assert stored(app, conversation_id) == (Rating.YES, None)


@pytest.mark.parametrize("how", ["left waiting", "removed"])
def test_a_customer_nobody_served_is_not_asked(app, client, asking, how):
    join(client, asking)
    with app.app_context():
        conversation_id = db.session.scalar(select(Conversation.id))
        if how == "removed":
            service.remove(conversation(conversation_id), user(asking["aino"]))
    if how == "left waiting":
        page = client.post("/chat/customer/leave", follow_redirects=True).get_data(as_text=True)
    else:
        page = client.get("/chat/customer/conversation").get_data(as_text=True)

    assert QUESTION not in page
    assert answer(client, answer="yes").status_code == 409
    assert stored(app, conversation_id) == (None, None)


def test_the_question_is_gone_an_hour_after_the_chat_ended(app, client, asking):
    conversation_id = served_and_ended(app, client, asking)
    client.get("/chat/customer/conversation")
    with app.app_context():
        conversation(conversation_id).ended_at = utcnow() - timedelta(minutes=61)
        db.session.commit()

    assert QUESTION not in client.get("/chat/customer/").get_data(as_text=True)
    assert answer(client, answer="yes").status_code == 409
    assert stored(app, conversation_id) == (None, None)


def test_joining_again_drops_the_question_about_the_last_chat(app, client, asking):
    conversation_id = served_and_ended(app, client, asking)
    client.get("/chat/customer/conversation")
    join(client, asking, "Ville")  # the next person at the library's computer

    assert answer(client, answer="no").status_code == 409
    assert stored(app, conversation_id) == (None, None)


@pytest.mark.parametrize("data, field, message", [
    ({"comment": "Kiitos"}, "answer", "Choose yes, partly or no."),
    ({"answer": "maybe", "comment": "Kiitos"}, "answer", "Choose yes, partly or no."),
    ({"answer": "yes", "comment": "x" * 1001}, "comment", "A comment can be at most 1000 characters."),
])
def test_a_bad_answer_is_refused_at_its_field_and_kept(app, client, asking, data, field, message):
    conversation_id = served_and_ended(app, client, asking)
    client.get("/chat/customer/conversation")

    refused = answer(client, **data)

    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert f'id="{field}-error"' in html and message in html
    assert data["comment"] in html  # what was typed stays
    assert stored(app, conversation_id) == (None, None)
    assert answer(client, answer="yes").status_code == 200  # and the question is still open


def test_answers_are_counted_on_the_statistics_page_and_in_the_csv(app, make_unit, make_user):
    library = make_unit()
    make_user("aino", ("chat_agent", library))
    with app.app_context():
        general, specialist = ChatQueue(unit_id=library, name="General"), ChatQueue(unit_id=library, name="Specialist")
        db.session.add_all([general, specialist])
        db.session.flush()
        joined = helsinki(2026, 3, 2, 10, 0)
        for n, (queue, rating) in enumerate([(general, Rating.YES), (general, Rating.YES), (general, Rating.NO),
                                              (general, None), (specialist, Rating.PARTLY)]):
            db.session.add(Conversation(queue_id=queue.id, token=f"t{n}", customer_name="C",
                                        state=ConversationState.ENDED, joined_at=joined,
                                        served_at=joined + timedelta(minutes=1),
                                        ended_at=joined + timedelta(minutes=5), rating=rating))
        db.session.commit()
        figures = statistics.figures([general, specialist], date(2026, 3, 2), date(2026, 3, 2))
        assert [(r.queue.name, r.ratings) for r in figures.rows] == [
            ("General", {Rating.YES: 2, Rating.PARTLY: 0, Rating.NO: 1}),
            ("Specialist", {Rating.YES: 0, Rating.PARTLY: 1, Rating.NO: 0})]
    aino = logged_in(app, "aino")

    page = aino.get("/chat/statistics?start=2026-03-02&end=2026-03-02").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(aino.get("/chat/statistics.csv?start=2026-03-02&end=2026-03-02").text)))

    assert "4 customers answered whether they got the help they needed: yes 2, partly 1, no 1." in page
    assert '<th scope="col">Helped: partly</th>' in page
    assert rows[0][-3:] == ["helped_yes", "helped_partly", "helped_no"]
    assert [r[1:2] + r[-3:] for r in rows[1:]] == [["General", "2", "0", "1"], ["Specialist", "0", "1", "0"]]


def test_a_rating_counts_in_the_queue_where_the_chat_ended(app, client, asking, make_user):
    """A transferred customer rates the chat of the queue that served them last."""
    with app.app_context():
        specialist = ChatQueue(unit_id=asking["library"], name="Specialist", is_open=False, asks_rating=True)
        db.session.add(specialist)
        db.session.commit()
        specialist_id = specialist.id
    join(client, asking)
    with app.app_context():
        conversation_id = db.session.scalar(select(Conversation.id))
        on_duty(asking, "aino", queue_ids=[asking["queue"], specialist_id])
        aino = user(asking["aino"])
        service.claim(conversation_id, aino)
        service.transfer(conversation(conversation_id), specialist_id, "", aino)
        service.claim(conversation_id, aino)
        service.end(conversation(conversation_id), aino)
    client.get("/chat/customer/conversation")
    assert answer(client, answer="no").status_code == 200
    with app.app_context():
        queues = [db.session.get(ChatQueue, asking["queue"]), db.session.get(ChatQueue, specialist_id)]
        today = date.today()
        rows = statistics.figures(queues, today - timedelta(days=1), today + timedelta(days=1)).rows
        assert {r.queue.name: r.ratings[Rating.NO] for r in rows} == {"Neuvonta": 0, "Specialist": 1}


def test_anonymising_removes_the_name_from_the_comment_and_the_purge_the_comment_not_the_answer(app, client, asking):
    conversation_id = served_and_ended(app, client, asking, name="Toni Virtanen")
    client.get("/chat/customer/conversation")
    answer(client, answer="yes", comment="Kiitos, terveisin Toni")
    with app.app_context():
        queue = db.session.get(ChatQueue, asking["queue"])
        queue.keep_days, queue.anonymise_after_days = 30, 7
        conversation(conversation_id).ended_at = utcnow() - timedelta(days=10)
        db.session.commit()
        retention.purge(utcnow())
        c = conversation(conversation_id)
        assert (c.customer_name, c.rating, c.rating_comment) == ("", Rating.YES, "Kiitos, terveisin ***")

        c.ended_at = utcnow() - timedelta(days=31)
        db.session.commit()
        retention.purge(utcnow())
        c = conversation(conversation_id)
        assert (c.purged_at is not None, c.rating, c.rating_comment) == (True, Rating.YES, None)
