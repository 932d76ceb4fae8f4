"""The site's forms. Nothing a person types lands in an address: every form that holds typed text
is sent by POST (a form only htmx would post falls back to a native GET when it is submitted
before htmx has processed it), and the searches read what was typed from the request's body
only. Every POST form carries its CSRF token, so that it works posted natively too."""
import re
from pathlib import Path

import pytest

from common.access import Role

ROOT = Path(__file__).resolve().parent.parent
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
# Inputs whose value a person types; hidden fields, boxes, dates and choices carry no free text.
# A search's input is rendered from its form field (input_with_error).
TYPED = re.compile(r"<textarea\b|<input\b(?![^>]*\btype=\"(?:hidden|checkbox|radio|date|submit|button)\")"
                   r"|input_with_error\(", re.S)


def forms():
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for match in FORM.finditer(path.read_text()):
            yield path.relative_to(ROOT), match.group(1), match.group(2)


def test_every_form_with_typed_text_or_an_htmx_post_is_a_post_form():
    wrong = [f"{path}: <form{attributes[:80]}…>" for path, attributes, body in forms()
             if (TYPED.search(body) or "hx-post" in attributes) and 'method="post"' not in attributes]
    assert not wrong, "\n".join(wrong)


def test_every_post_form_carries_its_csrf_token():
    token = re.compile(r"csrf\(\)|csrf_token|hidden_tag\(\)")
    wrong = [f"{path}: <form{attributes[:80]}…>" for path, attributes, body in forms()
             if 'method="post"' in attributes and not token.search(body)]
    assert not wrong, "\n".join(wrong)


def test_the_contract_sees_the_forms_it_checks():
    """The rule above looks at real forms: the searches, the chat box and the checklist are among them."""
    paths = {str(path) for path, _attributes, body in forms() if TYPED.search(body)}
    assert {"templates/registration/_search_form.html", "templates/ebook/customers.html",
            "templates/accounts/users.html",
            "templates/accounts/audit.html", "templates/chat/_message_form.html"} <= paths


@pytest.fixture
def admin(client, auth, make_user):
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    for n in range(60):  # more than a page of 50
        make_user(f"lukija{n:02d}")
    auth.login("sirpa")
    return client


def test_the_user_search_reads_its_text_from_the_body_only(admin):
    found = admin.post("/admin/users", data={"q": "sirp"}).text
    assert "<td>Sirpa</td>" in found and "<td>Lukija00</td>" not in found
    by_address = admin.get("/admin/users", query_string={"q": "sirp"}).text
    # what came in the address was not searched for
    assert "<td>Lukija00</td>" in by_address and 'value="sirp"' not in by_address


def test_the_pages_of_a_search_send_the_search_again_in_the_body(admin):
    first = admin.post("/admin/users", data={"q": "lukija"}).text
    assert 'form="user-search-form" name="page" value="2"' in first
    assert "<td>Lukija00</td>" in first
    assert "<td>Lukija59</td>" not in first
    second = admin.post("/admin/users", data={"q": "lukija", "page": "2"}).text
    assert "<td>Lukija00</td>" not in second and "<td>Lukija59</td>" in second and "<td>Sirpa</td>" not in second
    assert 'href="/admin/users?' not in second


def test_the_audit_filters_come_in_the_body(admin, auth):
    auth.logout()
    auth.login("lukija00", "wrong")
    auth.login("sirpa")
    filtered = admin.post("/admin/audit", data={"action": "login.failed"}).text
    assert "1 events" in filtered
    assert "1 events" not in admin.get("/admin/audit", query_string={"action": "login.failed"}).text
    assert admin.post("/admin/audit", data={"unit": "99999999999999999999999"}).status_code == 404
