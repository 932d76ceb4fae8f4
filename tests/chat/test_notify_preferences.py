"""Each agent's desktop notification choices: kept on the server (so they follow the agent to
another browser), changed by the agent alone, "on"/"off" only."""
from blueprints.chat.models import NotifyPreference
from common.access import Role
from extensions import db
from tests.chat.conftest import log_in_to_service
from tests.conftest import count, logged_in


def url(user_id):
    return f"/chat/agents/{user_id}/notifications"


def test_an_agents_choices_are_none_until_chosen_and_then_kept_for_every_browser(app, desk):
    aino = logged_in(app, "aino")
    assert aino.get(url(desk["aino"])).get_json() == {"customers": False, "messages": False}
    answer = aino.post(url(desk["aino"]), data={"customers": "on"})
    assert answer.status_code == 200
    assert answer.get_json() == {"customers": True, "messages": False}
    assert aino.post(url(desk["aino"]), data={"messages": "on"}).get_json() == {"customers": True, "messages": True}
    # Another browser of hers (another session) reads the same choices, and the desk carries them.
    elsewhere = logged_in(app, "aino")
    assert elsewhere.get(url(desk["aino"])).get_json() == {"customers": True, "messages": True}
    log_in_to_service(elsewhere, desk["queue"], "Aino")
    page = elsewhere.get("/chat/").get_data(as_text=True)
    assert 'data-notify-customers="on"' in page and 'data-notify-messages="on"' in page
    answer = elsewhere.post(url(desk["aino"]), data={"customers": "off"})
    assert answer.get_json() == {"customers": False, "messages": True}


def test_nobody_reads_or_changes_another_agents_choices_not_even_a_service_admin(app, desk, make_user):
    make_user("celia", (Role.SERVICE_ADMIN, None))
    erja, olli, celia = logged_in(app, "erja"), logged_in(app, "olli"), logged_in(app, "celia")
    for browser in (erja, olli, celia):
        assert browser.get(url(desk["aino"])).status_code == 403
        assert browser.post(url(desk["aino"]), data={"customers": "on"}).status_code == 403
    assert count(app, NotifyPreference) == 0


def test_a_visitor_or_a_staff_member_without_the_chat_role_is_not_let_in(app, desk, client, make_user, make_unit):
    make_user("rita", (Role.REGISTRAR, make_unit()))
    assert client.post(url(desk["aino"]), data={"customers": "on"}).status_code in (302, 401, 403)
    rita = logged_in(app, "rita")
    assert rita.post(url(desk["aino"]), data={"customers": "on"}).status_code == 403
    assert count(app, NotifyPreference) == 0


def test_a_value_other_than_on_or_off_is_refused_with_422_and_nothing_is_stored(app, desk):
    aino = logged_in(app, "aino")
    for data in ({"customers": "yes"}, {"messages": ""}, {}, {"sound": "on"}, {"customers": "on", "messages": "maybe"}):
        answer = aino.post(url(desk["aino"]), data=data)
        assert answer.status_code == 422, data
        assert answer.get_json()["error"] == "Choose on or off."
    assert count(app, NotifyPreference) == 0
    aino.post(url(desk["aino"]), data={"customers": "on"})
    assert aino.post(url(desk["aino"]), data={"customers": "on", "messages": "maybe"}).status_code == 422
    with app.app_context():
        row = db.session.get(NotifyPreference, desk["aino"])
        assert (row.customers, row.messages) == (True, False)
