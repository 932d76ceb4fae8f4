"""Canned replies: who keeps which (a queue's agents and service admins; a personal reply its
owner alone), the rules of a reply (a name, at least one language), the message box's search with
placeholders filled in the chat's language, and the count of insertions on the statistics page."""
import re

from sqlalchemy import func, select

from blueprints.chat.models import CannedReply, CannedReplyUse, ChatQueue
from common.access import Role
from extensions import db
from tests.chat.conftest import conversation_of, join, log_in_to_service
from tests.conftest import logged_in

HOURS = {"text_fi": "Hei {customer}! Kirjasto on auki 9-20. T. {agent}, {queue}",
         "text_sv": "Hej {customer}! Biblioteket är öppet 9-20. Hälsningar {agent}, {queue}",
         "text_en": "", "text_nl": ""}


def save(browser, name="Aukioloajat", owner="", reply_id=None, **texts):
    data = {"owner": owner, "name": name, **(texts or HOURS)}
    return browser.post(f"/chat/canned/{reply_id}" if reply_id else "/chat/canned/new", data=data)


def replies(app):
    with app.app_context():
        return {r.name: (r.queue_id, r.owner_id) for r in db.session.scalars(select(CannedReply))}


def reply_id(app, name):
    with app.app_context():
        return db.session.scalar(select(CannedReply.id).where(CannedReply.name == name))


def test_a_queues_agents_and_the_service_admins_keep_its_replies_and_others_cannot(app, desk, make_user):
    make_user("celia", (Role.SERVICE_ADMIN, None))
    aino, erja, olli, celia = (logged_in(app, name) for name in ("aino", "erja", "olli", "celia"))

    assert save(aino, owner=desk["queue"]).status_code == 302
    assert save(celia, name="Uusiminen", owner=desk["queue"]).status_code == 302
    assert replies(app) == {"Aukioloajat": (desk["queue"], None), "Uusiminen": (desk["queue"], None)}
    # An agent of another library may not choose the queue, nor open or delete its replies.
    refused = save(olli, name="Vieras", owner=desk["queue"])
    assert refused.status_code == 422 and "Not a valid choice." in refused.get_data(as_text=True)
    opening = reply_id(app, "Aukioloajat")
    assert olli.get(f"/chat/canned/{opening}").status_code == 404
    assert olli.post(f"/chat/canned/{opening}/delete").status_code == 404
    assert "Aukioloajat" not in olli.get("/chat/canned").get_data(as_text=True)
    # A colleague of the queue changes and deletes it.
    assert save(erja, name="Aukioloajat kesällä", owner=desk["queue"], reply_id=opening).status_code == 302
    assert "Aukioloajat kesällä" in aino.get("/chat/canned").get_data(as_text=True)
    assert erja.post(f"/chat/canned/{opening}/delete").status_code == 302
    assert set(replies(app)) == {"Uusiminen"}


def test_a_personal_reply_is_its_owners_alone(app, desk):
    aino, erja = logged_in(app, "aino"), logged_in(app, "erja")
    assert save(aino, name="Oma tervehdys").status_code == 302
    mine = reply_id(app, "Oma tervehdys")
    with app.app_context():
        assert db.session.get(CannedReply, mine).owner_id == desk["aino"]

    assert "Oma tervehdys" in aino.get("/chat/canned").get_data(as_text=True)
    assert "Oma tervehdys" not in erja.get("/chat/canned").get_data(as_text=True)
    assert erja.get(f"/chat/canned/{mine}").status_code == 404
    assert save(erja, name="Otettu", reply_id=mine).status_code == 404
    assert erja.post(f"/chat/canned/{mine}/delete").status_code == 404
    assert set(replies(app)) == {"Oma tervehdys"}


def test_a_reply_needs_a_name_and_a_text_in_at_least_one_language(app, desk):
    aino = logged_in(app, "aino")

    no_text = save(aino, name="Tyhjä", text_fi="", text_sv=" ", text_en="", text_nl="")
    assert no_text.status_code == 422
    html = no_text.get_data(as_text=True)
    assert re.search(r'id="text_fi-error">Write the reply in at least one language.<', html)
    assert 'value="Tyhjä"' in html  # kept as typed
    no_name = save(aino, name="", text_en="Hello")
    assert no_name.status_code == 422 and "Give the reply a short name." in no_name.get_data(as_text=True)
    assert "Hello" in no_name.get_data(as_text=True)
    too_long = save(aino, name="Pitkä", text_nl="x" * 2001)
    assert too_long.status_code == 422
    assert replies(app) == {}
    assert save(aino, name="Vain hollanniksi", text_nl="Goedemiddag {customer}").status_code == 302


def served_by_aino(app, client, desk, language="sv"):
    """Toni joins on a page in `language`, Aino serves him: (conversation id, Aino's browser)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    join(client, desk)
    c = conversation_of(app)
    aino = logged_in(app, "aino")
    log_in_to_service(aino, desk["queue"], "Aino K.")
    assert aino.post(f"/chat/conversations/{c.id}/claim").status_code == 200
    return c.id, aino


def options(answer):
    """(reply id, filled text) of each option the search answered with."""
    html = answer.get_data(as_text=True)
    return [(int(i), text.replace("&#39;", "'").replace("&amp;", "&"))
            for i, text in re.findall(r'data-canned-reply="(\d+)" data-canned-text="([^"]*)"', html)]


def test_the_search_offers_the_chats_queue_and_my_own_replies_filled_in_the_chats_language(app, client, desk,
                                                                                           make_unit):
    aino, erja = logged_in(app, "aino"), logged_in(app, "erja")
    with app.app_context():
        other = ChatQueue(unit_id=desk["library"], name="Tietokoneopastus", is_open=True)
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    save(aino, owner=desk["queue"])
    save(aino, name="Toisen jonon vastaus", owner=other_id, text_fi="Ei tänne", text_sv="", text_en="", text_nl="")
    save(aino, name="Oma lopetus", text_fi="Kiitos {customer}!", text_sv="", text_en="Thanks {customer}!", text_nl="")
    save(erja, name="Erjan oma", text_fi="Erjan", text_sv="", text_en="", text_nl="")
    conversation_id, aino = served_by_aino(app, client, desk, language="sv")
    url = f"/chat/canned/search?conversation={conversation_id}"

    found = dict(options(aino.get(url)))
    assert set(found) == {reply_id(app, "Aukioloajat"), reply_id(app, "Oma lopetus")}
    # Swedish, the customer's language; placeholders filled with the customer, the name he sees, the queue.
    assert found[reply_id(app, "Aukioloajat")] == "Hej Toni! Biblioteket är öppet 9-20. Hälsningar Aino K., Neuvonta"
    # No Swedish text: the agent's own language (English).
    assert found[reply_id(app, "Oma lopetus")] == "Thanks Toni!"
    # Searched by name and by text, in any language, as typed.
    assert [i for i, _ in options(aino.get(url + "&q=lopet"))] == [reply_id(app, "Oma lopetus")]
    assert [i for i, _ in options(aino.get(url + "&q=BIBLIOTEKET"))] == [reply_id(app, "Aukioloajat")]
    assert options(aino.get(url + "&q=100%")) == []


def test_only_the_agent_who_writes_in_the_chat_searches_and_counts_its_replies(app, client, desk):
    aino = logged_in(app, "aino")
    save(aino, owner=desk["queue"])
    conversation_id, aino = served_by_aino(app, client, desk)
    erja, olli = logged_in(app, "erja"), logged_in(app, "olli")
    opening = reply_id(app, "Aukioloajat")

    # A colleague reading the chat does not write in it; an agent of another library does not see it.
    assert erja.get(f"/chat/canned/search?conversation={conversation_id}").status_code == 403
    assert olli.get(f"/chat/canned/search?conversation={conversation_id}").status_code == 404
    assert erja.post(f"/chat/canned/{opening}/used?conversation={conversation_id}").status_code == 403
    assert aino.get("/chat/canned/search").status_code == 404  # no chat named
    # Another agent's personal reply is not offered, and cannot be counted in my chat.
    save(erja, name="Erjan oma", text_fi="Erjan", text_sv="", text_en="", text_nl="")
    assert aino.post(f"/chat/canned/{reply_id(app, 'Erjan oma')}/used",
                     data={"conversation": conversation_id}).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CannedReplyUse)) == 0


def test_in_the_internal_chat_the_customer_placeholder_stays_and_my_name_is_filled(app, desk):
    aino = logged_in(app, "aino")
    save(aino, owner=desk["queue"])
    answer = aino.post(f"/chat/colleagues/{desk['erja']}/chat")
    internal = int(re.search(r"internal=(\d+)", answer.headers["Location"]).group(1))

    # Erja reads Finnish? She reads English: the reply has none, so the agent's own order decides.
    [(_, text)] = options(aino.get(f"/chat/canned/search?internal={internal}"))
    assert text == "Hei {customer}! Kirjasto on auki 9-20. T. Aino, Neuvonta"
    used = aino.post(f"/chat/canned/{reply_id(app, 'Aukioloajat')}/used", data={"internal": internal})
    assert used.status_code == 204
    olli = logged_in(app, "olli")
    assert olli.get(f"/chat/canned/search?internal={internal}").status_code == 404


def test_insertions_are_counted_and_shown_on_the_statistics_page(app, client, desk):
    aino = logged_in(app, "aino")
    save(aino, owner=desk["queue"])
    save(aino, name="Oma lopetus", text_fi="Kiitos!", text_sv="", text_en="", text_nl="")
    conversation_id, aino = served_by_aino(app, client, desk)
    opening, closing = reply_id(app, "Aukioloajat"), reply_id(app, "Oma lopetus")

    for reply in (opening, opening, closing):
        assert aino.post(f"/chat/canned/{reply}/used", data={"conversation": conversation_id}).status_code == 204

    page = aino.get("/chat/statistics").get_data(as_text=True)
    table = re.search(r'<table class="chat-canned-uses">.*?</table>', page, re.S).group(0)
    rows = [re.sub(r"<[^>]+>|\s+", " ", row).split()
            for row in re.findall(r"<tr><th scope=\"row\">.*?</tr>", table, re.S)]
    assert rows == [["Aukioloajat", "Neuvonta", "2"], ["Oma", "lopetus", "personal", "(Aino)", "1"]]
    assert "Used" in aino.get("/chat/canned").get_data(as_text=True)
