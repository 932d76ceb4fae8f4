"""Every user-facing string of every area is translated into Finnish, Swedish, English and Dutch."""
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from extensions import AREAS, LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def extracted_messages(area):
    with open(ROOT / "translations" / area / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("area", AREAS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_is_complete(area, language):
    with open(ROOT / "translations" / area / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalog = read_po(po)
    missing = []
    for msgid in sorted(extracted_messages(area)):
        message = catalog.get(msgid)
        strings = [] if message is None else (message.string if isinstance(message.string, tuple) else [message.string])
        if message is None or message.fuzzy or not all(strings):
            missing.append(msgid)
    assert not missing, f"{len(missing)} untranslated in {area}/{language}: {missing[:10]}"


def test_the_finnish_page_is_in_finnish(client):
    response = client.get("/login", headers={"Accept-Language": "fi"})
    assert "Kirjaudu sisään" in response.get_data(as_text=True)


def test_the_dutch_page_is_in_dutch(client):
    response = client.get("/login", headers={"Accept-Language": "nl"})
    assert "Inloggen" in response.get_data(as_text=True)
