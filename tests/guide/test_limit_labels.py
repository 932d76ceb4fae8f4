"""The NEVER rules named in one line (the session's "limit reached" list, the statistics' "limits
met" table): plain text with the rule's number, cut at a word, never the seed's ** marks."""
import html
import re

import pytest

from blueprints.guide import service
from blueprints.guide.models import GuidanceSession, ItemGroup, LimitMet, Outcome, Referral, SessionTopic
from common.access import Role
from extensions import db
from tests.conftest import helsinki

LABELS = {
    "fi": {
        "never-2": "2. Ei hoida nettipalveluissa asiakkaan henkilökohtaisia, luottamuksellisia asioita…",
        "never-4": "4. Ei asenna tai edes auta asiakasta asentamaan älylaitteeseen sovellusta…",
        "never-6": "6. Ei todista oikeaksi asiakkaan asiakirjakopioita.",
    },
    "en": {
        "never-2": "2. Does not handle the customer's personal, confidential matters in online…",
        "never-4": "4. Installs, or even helps the customer install, no app on a smart device from…",
        "never-6": "6. Does not certify copies of the customer's documents.",
    },
}


@pytest.fixture
def trainer(app, make_unit, make_user, client, auth):
    """A guide in the asked language, logged in; returns (unit id, user id)."""

    def log_in(language):
        unit = make_unit()
        user = make_user(f"opas-{language}", (Role.GUIDE, unit), language=language)
        with app.app_context():
            service.ensure_first_version()
            db.session.commit()
        auth.login(f"opas-{language}")
        return unit, user

    return log_in


def _options(body, select_id):
    select = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', body, re.S).group(1)
    return [html.unescape(text).strip() for text in re.findall(r"<option[^>]*>(.*?)</option>", select, re.S)]


def _row_headers(body, caption):
    table = re.search(rf"<caption>{re.escape(caption)}</caption>(.*?)</table>", body, re.S).group(1)
    return [html.unescape(text) for text in re.findall(r'<th scope="row">(.*?)</th>', table, re.S)]


@pytest.mark.parametrize("language", ["fi", "en"])
def test_the_limit_reached_list_shows_each_rule_as_plain_numbered_text(app, client, trainer, language):
    unit, _ = trainer(language)
    response = client.post("/guide/", data={"unit": unit, "topics": ["banking"], "device": "phone",
                                            "customer_language": "fi"})
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    options = _options(body, "limit")
    assert len(options) == 6
    assert [option.split(".")[0] for option in options] == ["1", "2", "3", "4", "5", "6"]
    assert not [option for option in options if "*" in option]
    for key in ("never-2", "never-4", "never-6"):
        assert LABELS[language][key] in options
    assert all(len(option) <= 3 + service.LABEL_LENGTH + 1 for option in options)


@pytest.mark.parametrize("language", ["fi", "en"])
def test_the_limits_met_table_names_each_rule_as_plain_numbered_text(app, client, trainer, language):
    unit, user = trainer(language)
    with app.app_context():
        version = service.current_version()
        never = {i.key: i.id for i in version.group(ItemGroup.NEVER)}
        for key, referral in (("never-2", Referral.SERVICE_PROVIDER), ("never-6", Referral.LIBRARY_SERVICE)):
            db.session.add(GuidanceSession(
                unit_id=unit, guide_id=user, version=version, device="phone", customer_language="fi",
                started_at=helsinki(2026, 3, 2, 10, 0), ended_at=helsinki(2026, 3, 2, 10, 20), duration_minutes=20,
                outcome=Outcome.REFERRED_SERVICE_PROVIDER, topics=[SessionTopic(topic="banking")],
                limits_met=[LimitMet(item_id=never[key], referred_to=referral)]))
        db.session.commit()
    body = client.get("/guide/statistics?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    caption = {"fi": "Kohdatut rajoitukset", "en": "Limits met"}[language]
    assert _row_headers(body, caption) == [LABELS[language]["never-2"], LABELS[language]["never-6"]]


def test_a_label_is_cut_at_a_word_and_a_short_one_is_whole(app_context):
    rules = service.ensure_first_version().group(ItemGroup.NEVER)
    assert service.item_label(rules[0], "fi", length=20) == "1. Ei tee asiakkaan…"
    assert service.item_label(rules[5], "en", length=200) == "6. Does not certify copies of the customer's documents."
