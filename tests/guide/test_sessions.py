"""Guidance sessions through the pages: start, tick, limits, end, and the bad input cases."""
import re
from datetime import timedelta

from blueprints.guide import service
from blueprints.guide.models import GuidanceSession, ItemGroup, Outcome
from common.access import Role
from common.refusals import Refused, status_of
from extensions import db


def _items(app, group):
    with app.app_context():
        return [i.id for i in service.current_version().group(group)]


def _session(app, sid):
    with app.app_context():
        s = db.session.get(GuidanceSession, sid)
        return {
            "ticks": sorted(s.ticked_item_ids), "ended": s.ended_at, "outcome": s.outcome,
            "duration": s.duration_minutes, "note": s.note,
            "limits": [(m.item.key, m.referred_to.value) for m in s.limits_met],
            "version": s.version.number,
        }


def test_start_asks_no_personal_data_and_warns(client, start):
    page = client.get("/guide/").get_data(as_text=True)
    assert "no name, no identity number" in page
    for word in ("name=\"name\"", "name=\"phone\"", "name=\"email\"", "birth"):
        assert word not in page


def test_start_without_topic_is_refused_with_values_kept(client, start, library, app):
    response = client.post("/guide/", data={"unit": library, "device": "tablet", "customer_language": "sv"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Choose at least one topic." in body
    assert '<option selected value="tablet">' in body
    with app.app_context():
        assert db.session.query(GuidanceSession).count() == 0


def test_banking_raises_rule_2_with_what_to_do_instead(client, start):
    sid = start(topics=("banking",))
    body = client.get(f"/guide/sessions/{sid}").get_data(as_text=True)
    assert "Limit for this topic: rule 2 of NEVER" in body
    assert "Refer the customer to the service provider" in body
    # The checklist to tick comes first, the limit after it (a line at the top leads there).
    assert body.index('class="guide-group guide-always"') < body.index('class="guide-raised"')
    assert "This topic touches rule 2 of NEVER." in body


def test_ticking_and_unticking(client, start, app):
    sid = start()
    first, second = _items(app, ItemGroup.ALWAYS)[:2]
    iftime = _items(app, ItemGroup.IF_TIME)[0]
    assert client.post(f"/guide/sessions/{sid}/items/{first}", data={"ticked": "1"}).status_code == 200
    assert client.post(f"/guide/sessions/{sid}/items/{iftime}", data={"ticked": "1"}).status_code == 200
    assert client.post(f"/guide/sessions/{sid}/items/{second}", data={"ticked": "1"}).status_code == 200
    assert client.post(f"/guide/sessions/{sid}/items/{second}", data={}).status_code == 200
    assert _session(app, sid)["ticks"] == sorted([first, iftime])


def test_never_rule_1_exception_is_recorded_on_the_session_and_audited(client, start, app):
    from common.audit import AuditEvent

    sid = start()
    page = client.get(f"/guide/sessions/{sid}").get_data(as_text=True)
    assert 'id="never-1-exception"' in page and "illness or disability made it necessary" in page
    answer = client.post(f"/guide/sessions/{sid}/never-1-exception", data={"applied": "1"})
    assert answer.status_code == 200
    assert re.search(r'id="never-1-exception" name="applied" value="1"\s+checked', answer.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(GuidanceSession, sid).never_1_exception_at is not None
        events = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "guide.never_1_exception")).all()
        assert [e.detail["applied"] for e in events] == [True]
    client.post(f"/guide/sessions/{sid}/never-1-exception", data={})
    with app.app_context():
        assert db.session.get(GuidanceSession, sid).never_1_exception_at is None
    client.post(f"/guide/sessions/{sid}/end", data={"outcome": "solved", "duration_minutes": "5"})
    assert client.post(f"/guide/sessions/{sid}/never-1-exception", data={"applied": "1"}).status_code == 409


def test_a_never_rule_is_not_ticked(client, start, app):
    sid = start()
    rule = _items(app, ItemGroup.NEVER)[0]
    assert client.post(f"/guide/sessions/{sid}/items/{rule}", data={"ticked": "1"}).status_code == 422
    assert _session(app, sid)["ticks"] == []


def test_ticking_an_item_of_another_version_is_refused(client, start, app):
    sid = start()
    old_item = _items(app, ItemGroup.ALWAYS)[0]
    with app.app_context():
        service.edit_item(None, old_item, {lang: "new" for lang in ("fi", "sv", "en", "nl")})
        db.session.commit()
    new_item = _items(app, ItemGroup.ALWAYS)[0]
    response = client.post(f"/guide/sessions/{sid}/items/{new_item}", data={"ticked": "1"})
    assert response.status_code == 422
    assert "not in the checklist version" in response.get_data(as_text=True)
    assert _session(app, sid)["ticks"] == []
    # The session keeps version 1, whose item it can still tick.
    assert client.post(f"/guide/sessions/{sid}/items/{old_item}", data={"ticked": "1"}).status_code == 200
    assert _session(app, sid)["version"] == 1


def test_stopped_at_a_limit_and_referred(client, start, app):
    sid = start(topics=("device_settings",))
    rule3 = _items(app, ItemGroup.NEVER)[2]
    response = client.post(f"/guide/sessions/{sid}/limits", data={"limit": rule3, "referred_to": "repair_shop"})
    assert response.status_code == 200
    assert _session(app, sid)["limits"] == [("never-3", "repair_shop")]
    bad = client.post(f"/guide/sessions/{sid}/limits", data={"limit": rule3, "referred_to": "moon"})
    assert bad.status_code == 422
    assert len(_session(app, sid)["limits"]) == 1


def test_end_session_once(client, start, app):
    sid = start(topics=("banking",))
    page = client.get(f"/guide/sessions/{sid}/end").get_data(as_text=True)
    assert "Do not write any personal data" in page
    response = client.post(f"/guide/sessions/{sid}/end",
                           data={"outcome": "referred_service_provider", "duration_minutes": "12",
                                 "note": "Bank app login"})
    assert response.status_code == 302
    state = _session(app, sid)
    assert (state["outcome"], state["duration"], state["note"]) == (Outcome.REFERRED_SERVICE_PROVIDER, 12,
                                                                    "Bank app login")
    again = client.post(f"/guide/sessions/{sid}/end", data={"outcome": "solved", "duration_minutes": "5"})
    assert again.status_code == 303
    after = _session(app, sid)
    assert (after["outcome"], after["duration"], after["ended"]) == (state["outcome"], 12, state["ended"])
    # Ended: no more ticks.
    item = _items(app, ItemGroup.ALWAYS)[0]
    assert client.post(f"/guide/sessions/{sid}/items/{item}", data={"ticked": "1"}).status_code == 409


def test_bad_durations_and_long_notes_are_refused(client, start, app):
    sid = start()
    for data, message in [
        ({"outcome": "solved", "duration_minutes": "-1"}, "between 0 and 1440"),
        ({"outcome": "solved", "duration_minutes": "1441"}, "between 0 and 1440"),
        ({"outcome": "solved", "duration_minutes": "abc"}, "duration"),
        ({"outcome": "solved", "duration_minutes": "10", "note": "x" * 501}, "at most 500"),
        ({"outcome": "nonsense", "duration_minutes": "10"}, "Not a valid choice"),
    ]:
        response = client.post(f"/guide/sessions/{sid}/end", data=data)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True), data
    assert _session(app, sid)["ended"] is None
    ok = client.post(f"/guide/sessions/{sid}/end", data={"outcome": "solved", "duration_minutes": "1440"})
    assert ok.status_code == 302


def test_end_session_service_rules(app_context, make_unit, make_user):
    from blueprints.accounts.models import User

    unit = make_unit()
    guide = db.session.get(User, make_user("g", (Role.GUIDE, unit)))
    session = service.start_session(guide, unit, ["email"], "phone", "fi")
    for outcome, minutes, note in [("solved", -1, ""), ("solved", 24 * 60 + 1, ""), ("solved", 3, "n" * 501),
                                   ("x", 3, "")]:
        try:
            service.end_session(guide, session, outcome, minutes, note)
        except Refused:
            pass
        else:
            raise AssertionError((outcome, minutes))
    assert session.ended_at is None
    service.end_session(guide, session, "solved", 0, "")
    try:
        service.end_session(guide, session, "solved", 3, "")
    except Refused as error:
        assert status_of(error) == 409
    else:
        raise AssertionError("ended twice")


def test_measured_duration_is_offered(client, start, app):
    sid = start()
    with app.app_context():
        s = db.session.get(GuidanceSession, sid)
        s.started_at -= timedelta(minutes=17)
        db.session.commit()
    page = client.get(f"/guide/sessions/{sid}/end").get_data(as_text=True)
    assert 'value="17"' in page


def test_a_guide_of_another_unit_gets_404_on_the_session(client, auth, start, make_unit, make_user, app):
    sid = start()
    other = make_unit()
    make_user("muu", (Role.GUIDE, other))
    item = _items(app, ItemGroup.ALWAYS)[0]
    auth.logout()
    auth.login("muu")
    assert client.get(f"/guide/sessions/{sid}").status_code == 404
    assert client.get(f"/guide/sessions/{sid}/checklist").status_code == 404
    assert client.post(f"/guide/sessions/{sid}/items/{item}", data={"ticked": "1"}).status_code == 404
    assert client.post(f"/guide/sessions/{sid}/end",
                       data={"outcome": "solved", "duration_minutes": "1"}).status_code == 404
    assert _session(app, sid)["ticks"] == [] and _session(app, sid)["ended"] is None


def test_a_guide_cannot_start_a_session_in_another_unit(client, start, make_unit, app):
    other = make_unit()
    response = client.post("/guide/",
                           data={"unit": other, "topics": ["email"], "device": "phone", "customer_language": "fi"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.query(GuidanceSession).count() == 0


def test_today_lists_mine_and_colleagues_in_progress(client, auth, start, make_user, library):
    sid = start(topics=("email",))
    make_user("kollega", (Role.GUIDE, library))
    auth.logout()
    auth.login("kollega")
    body = client.get("/guide/today").get_data(as_text=True)
    assert "Colleagues' sessions in progress" in body and f"/guide/sessions/{sid}" in body and "Opas" in body


def test_a_tick_is_announced_after_commit_to_everyone_who_may_view_the_session(app, client, start, monkeypatch):
    # Recorded at the emit step, so the test runs the same with or without the Redis queue
    # (the Socket.IO test client refuses a message queue); the browser test covers delivery.
    from common import live

    sid = start()
    item = _items(app, ItemGroup.ALWAYS)[0]
    emitted = []
    monkeypatch.setattr(live, "emit_now", lambda name, room="staff", namespace="/",
                        **data: emitted.append((name, room, data)))
    client.post(f"/guide/sessions/{sid}/items/{item}", data={"ticked": "1"})
    with app.app_context():
        unit_id = db.session.get(GuidanceSession, sid).unit_id
    assert ("guide-session-changed", f"unit:{unit_id}", {"session": sid}) in emitted
    assert ("guide-session-changed", "role:service_admin", {"session": sid}) in emitted
    emitted.clear()
    other = _items(app, ItemGroup.NEVER)[0]
    client.post(f"/guide/sessions/{sid}/items/{other}", data={"ticked": "1"})
    assert emitted == []  # refused: nothing changed, nothing announced


def test_the_service_commits_what_it_changes(app_context, make_unit, make_user):
    """The transaction rule: the service function that changes state is a write transaction
    of its own, which commits, so a rollback by whoever called it cannot undo a started, ticked
    and ended session."""
    from blueprints.accounts.models import User

    unit = make_unit()
    guide = db.session.get(User, make_user("g", (Role.GUIDE, unit)))
    session = service.start_session(guide, unit, ["email"], "phone", "fi")
    item = session.version.group(ItemGroup.ALWAYS)[0]
    service.set_tick(guide, session, item.id, True)
    service.end_session(guide, session, "solved", 5, "")
    session_id = session.id
    db.session.rollback()
    stored = db.session.get(GuidanceSession, session_id)
    assert stored.ended_at is not None and stored.ticked_item_ids == {item.id}
