"""The guideline: seed 004 complete, versions kept, topics raising the right limits."""
import re
from pathlib import Path

import pytest

from blueprints.accounts.models import User
from blueprints.guide import service
from blueprints.guide.models import ChecklistVersion, GuidanceSession, ItemGroup
from common.refusals import Refused
from extensions import db

# The seeds lie in shared/ beside the repository (as in CI's clone and every checkout).
SEED = next((Path(__file__).resolve().parents[2].parent / "shared" / "seeds").glob("004_*.txt"), None)
SEED_TEXT = SEED.read_text() if SEED else None


def seed_items():
    """The numbered items under each heading of seed 004, with its bold emphasis (**...**)."""
    sections = re.split(r"^### ", SEED_TEXT, flags=re.M)[1:]
    groups = []
    for section in sections:
        items = re.findall(r"^\d+\. (.+)$", section, flags=re.M)
        groups.append([item.strip() for item in items])
    return groups


@pytest.mark.skipif(SEED is None, reason="seed 004 is in the shared folder of the workspace")
def test_every_item_of_seed_004_is_stored_in_finnish(app_context):
    version = service.ensure_first_version()
    always, if_time, never = seed_items()
    assert (len(always), len(if_time), len(never)) == (9, 3, 6)
    assert [i.text_fi for i in version.group(ItemGroup.ALWAYS)] == always
    assert [i.text_fi for i in version.group(ItemGroup.IF_TIME)] == if_time
    assert [i.text_fi for i in version.group(ItemGroup.NEVER)] == never


def test_the_seeds_bold_emphasis_is_shown_bold_and_nothing_else_is_markup(app):
    from blueprints.guide.routes import guide_text

    assert guide_text("**Ei tee asiakkaan puolesta** mitään") == "<strong>Ei tee asiakkaan puolesta</strong> mitään"
    assert guide_text("<b>x</b> **y**") == "&lt;b&gt;x&lt;/b&gt; <strong>y</strong>"


def test_every_item_has_all_four_languages_and_every_limit_an_instead(app_context):
    version = service.ensure_first_version()
    assert len(version.items) == 18
    for item in version.items:
        assert all(item.text(lang).strip() for lang in ("fi", "sv", "en", "nl")), item.key
        if item.group == ItemGroup.NEVER:
            assert all(item.instead(lang) for lang in ("fi", "sv", "en", "nl")), item.key


@pytest.mark.parametrize(
    "topic, rule",
    [
        ("banking", 2), ("gambling", 2), ("authority_services", 2), ("installing_apps", 4),
        ("device_settings", 3), ("buying", 5), ("document_copies", 6),
    ],
)
def test_a_topic_raises_its_limit(app_context, topic, rule):
    version = service.ensure_first_version()
    raised = service.limits_for_topics(version, [topic])
    assert [i.key for i in raised] == [f"never-{rule}"]
    assert raised[0].number() == rule


@pytest.mark.parametrize("topic", ["phone_basics", "email", "e_resources", "other"])
def test_an_everyday_topic_raises_no_limit(app_context, topic):
    assert service.limits_for_topics(service.ensure_first_version(), [topic]) == []


def test_several_topics_raise_each_limit_once_in_rule_order(app_context):
    raised = service.limits_for_topics(service.ensure_first_version(), ["document_copies", "banking", "gambling"])
    assert [i.key for i in raised] == ["never-2", "never-6"]


def _texts(word):
    return {lang: f"{word} {lang}" for lang in ("fi", "sv", "en", "nl")}


def test_editing_makes_a_new_version_and_a_session_keeps_its_own(app_context, make_unit, make_user):
    unit = make_unit()
    guide = db.session.get(User, make_user("g", ("guide", unit)))
    v1 = service.ensure_first_version()
    session = service.start_session(guide, unit, ["email"], "phone", "fi")
    db.session.commit()
    first = v1.group(ItemGroup.ALWAYS)[0]
    v2 = service.edit_item(None, first.id, _texts("Changed"))
    db.session.commit()
    assert (v1.number, v2.number) == (1, 2)
    assert v2.group(ItemGroup.ALWAYS)[0].text_fi == "Changed fi"
    assert v2.group(ItemGroup.ALWAYS)[0].key == first.key
    db.session.expire_all()
    kept = db.session.get(GuidanceSession, session.id)
    assert kept.version.number == 1
    assert kept.version.group(ItemGroup.ALWAYS)[0].text_fi.startswith("Kohtaa asiakkaan")
    new_session = service.start_session(guide, unit, ["email"], "phone", "fi")
    assert new_session.version.number == 2


def test_reorder_retire_and_add_each_make_a_version(app_context):
    v1 = service.ensure_first_version()
    second = v1.group(ItemGroup.ALWAYS)[1]
    v2 = service.move_item(None, second.id, "up")
    assert [i.key for i in v2.group(ItemGroup.ALWAYS)][:2] == ["always-2", "always-1"]
    v3 = service.retire_item(None, v2.group(ItemGroup.IF_TIME)[0].id)
    assert [i.key for i in v3.group(ItemGroup.IF_TIME)] == ["iftime-2", "iftime-3"]
    v4 = service.add_item(None, "never", _texts("New rule"), _texts("Instead"))
    assert [i.key for i in v4.group(ItemGroup.NEVER)][-1] == "never-7"
    assert len(v4.items) == 18
    assert len(v1.items) == 18 and v1.group(ItemGroup.ALWAYS)[0].key == "always-1"
    assert db.session.query(ChecklistVersion).count() == 4


def test_an_old_version_cannot_be_edited(app_context):
    v1 = service.ensure_first_version()
    service.edit_item(None, v1.items[0].id, _texts("x"))
    with pytest.raises(Refused):
        service.edit_item(None, v1.items[0].id, _texts("y"))


def test_the_first_item_cannot_move_up(app_context):
    v1 = service.ensure_first_version()
    with pytest.raises(Refused):
        service.move_item(None, v1.group(ItemGroup.ALWAYS)[0].id, "up")


def test_admin_editor_saves_a_new_version(client, auth, make_user, app_context):
    make_user("boss", ("service_admin", None))
    auth.login("boss")
    v1 = service.ensure_first_version()
    db.session.commit()
    item_id = v1.group(ItemGroup.NEVER)[5].id
    data = {f"text_{lang}": f"Edited {lang}" for lang in ("fi", "sv", "en", "nl")} | {"instead_en": "Do this"}
    response = client.post(f"/guide/admin/checklist/items/{item_id}", data=data)
    assert response.status_code == 302
    empty = client.post("/guide/admin/checklist/items/new", data={"group": "always", "text_fi": ""})
    assert empty.status_code == 422
    db.session.expire_all()
    assert service.current_version().number == 2
    assert service.current_version().group(ItemGroup.NEVER)[5].instead_en == "Do this"
