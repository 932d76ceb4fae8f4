"""The chat button for the library's website: the snippet, the websites allowed to frame the
customer page, the queue's status as the button asks for it, and the customer's cookie."""
import json

import pytest

from blueprints.chat import widget
from blueprints.chat.models import ChatQueue
from common.access import Role
from common.refusals import Refused
from extensions import db
from tests.chat.conftest import log_in_to_service
from tests.conftest import english_client, logged_in

SITE = "https://www.kirjasto.example"


def queue_form(desk, **values):
    data = {"name": "Neuvonta", "unit": desk["library"], "is_open": "y", "waiting_message": "Odota",
            "widget_language": "fi"}
    data.update(values)
    return data


def set_queue(app, desk, **values):
    with app.app_context():
        queue = db.session.get(ChatQueue, desk["queue"])
        for name, value in values.items():
            setattr(queue, name, value)
        db.session.commit()


@pytest.fixture
def admin(app, make_user):
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    return logged_in(app, "sirpa")


def test_the_snippet_is_shown_to_those_who_may_edit_the_queue_only(app, desk, admin):
    page = admin.get(f"/chat/admin/queues/{desk['queue']}").get_data(as_text=True)
    snippet = f'&lt;script src=&#34;http://localhost/chat/widget/{desk["queue"]}.js&#34; async&gt;&lt;/script&gt;'
    assert snippet in page  # EXTERNAL_URL of the tests, escaped in the textarea
    assert "Copy the code" in page

    aino = logged_in(app, "aino")  # an agent of the queue's unit: not a service admin
    assert aino.get(f"/chat/admin/queues/{desk['queue']}").status_code == 403
    settings = aino.get(f"/chat/queues/{desk['queue']}/settings").get_data(as_text=True)
    assert "/chat/widget/" not in settings
    assert "/chat/widget/" not in admin.get("/chat/admin/queues/new").get_data(as_text=True)  # no queue yet


def test_the_admin_lists_websites_written_as_browsers_send_them(app, desk, admin):
    origins = f"HTTPS://www.Kirjasto.example/\n  http://127.0.0.1:8000 {SITE}:443\nhttp://[::1]:81"
    response = admin.post(f"/chat/admin/queues/{desk['queue']}",
                          data=queue_form(desk, embed_origins=origins, widget_language="sv"))
    assert response.status_code == 302
    with app.app_context():
        queue = db.session.get(ChatQueue, desk["queue"])
        assert queue.embed_origins.split() == [SITE, "http://127.0.0.1:8000", "http://[::1]:81"]
        assert queue.widget_language == "sv"
    page = admin.get(f"/chat/admin/queues/{desk['queue']}").get_data(as_text=True)
    assert f"{SITE}\nhttp://127.0.0.1:8000" in page


@pytest.mark.parametrize("origin", [
    "www.kirjasto.example",  # no scheme
    "ftp://www.kirjasto.example",
    "https://www.kirjasto.example/chat",  # a path
    "https://*.kirjasto.example",
    "https://user@www.kirjasto.example",
    "https://www.kirjasto.example?x=1",
    "https://www.kirjasto.example:99999",
    "'self'",
    "https://www.kirjasto.example;script-src",
    "javascript:alert(1)",
])
def test_what_is_not_a_website_address_is_refused_at_the_field_and_nothing_is_stored(app, desk, admin, origin):
    set_queue(app, desk, embed_origins=SITE)
    response = admin.post(f"/chat/admin/queues/{desk['queue']}",
                          data=queue_form(desk, name="Changed", embed_origins=f"http://127.0.0.1:8000\n{origin}"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="embed_origins-error"' in html and "is not a website address like https://www.library.fi" in html
    assert 'value="Changed"' in html
    with app.app_context():
        queue = db.session.get(ChatQueue, desk["queue"])
        assert (queue.name, queue.embed_origins) == ("Neuvonta", SITE)


def test_at_most_twenty_websites(in_request):
    with pytest.raises(Refused) as refused:
        widget.parse_origins(" ".join(f"https://site{n}.example" for n in range(21)))
    assert refused.value.field == "embed_origins"


def frame_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    return [d.strip() for d in csp.split(";") if d.strip().startswith("frame-ancestors")][0], \
        response.headers.get("X-Frame-Options")


def test_the_customer_page_may_be_framed_by_the_websites_of_its_queue_only(app, desk, make_unit):
    set_queue(app, desk, embed_origins=f"{SITE}\nhttp://127.0.0.1:8000")
    with app.app_context():
        other = ChatQueue(unit_id=desk["library"], name="Kaukolainat", is_open=True)
        db.session.add(other)
        db.session.commit()
        other_id = other.id

    plain = english_client(app)
    assert frame_headers(plain, "/chat/customer/") == ("frame-ancestors 'none'", "DENY")

    framed = english_client(app)
    listed = (f"frame-ancestors {SITE} http://127.0.0.1:8000", None)
    assert frame_headers(framed, f"/chat/customer/?queue={desk['queue']}&embed=1") == listed
    # The chat after joining, in the same frame, stays framable by the same websites.
    assert framed.post("/chat/customer/", data={"queue": desk["queue"], "name": "Toni"}).status_code == 302
    assert frame_headers(framed, "/chat/customer/") == listed

    unlisted = english_client(app)  # a queue with no websites: framed by none
    assert frame_headers(unlisted, f"/chat/customer/?queue={other_id}&embed=1") == ("frame-ancestors 'none'", "DENY")


def test_the_embedded_page_speaks_the_websites_language(app, desk):
    set_queue(app, desk, embed_origins=SITE)
    page = english_client(app).get(f"/chat/customer/?queue={desk['queue']}&embed=1&lang=sv")
    assert '<html lang="sv">' in page.get_data(as_text=True)


def test_the_status_says_offline_with_the_contact_address_then_online(app, desk):
    set_queue(app, desk, embed_origins=SITE, contact_email="neuvonta@kirjasto.example", widget_language="fi")
    visitor = english_client(app)
    answer = visitor.get(f"/chat/widget/{desk['queue']}/status?lang=en-GB", headers={"Origin": SITE})
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == SITE
    assert answer.json["online"] is False
    assert answer.json["contact_email"] == "neuvonta@kirjasto.example"
    assert answer.json["texts"]["state"] == "Offline: nobody answers right now."
    assert answer.json["texts"]["contact"] == "You can write to us at neuvonta@kirjasto.example."

    log_in_to_service(logged_in(app, "aino"), desk["queue"])
    answer = visitor.get(f"/chat/widget/{desk['queue']}/status?lang=en", headers={"Origin": SITE})
    assert answer.json["online"] is True
    assert answer.json["contact_email"] is None
    assert answer.json["texts"]["state"] == "Online: a librarian answers now."


def test_the_status_speaks_the_host_pages_language_or_the_queues(app, desk):
    set_queue(app, desk, embed_origins=SITE, widget_language="sv")
    visitor = english_client(app)
    finnish = visitor.get(f"/chat/widget/{desk['queue']}/status?lang=fi-FI").json
    assert (finnish["language"], finnish["texts"]["button"]) == ("fi", "Chattaa kirjaston kanssa")
    unknown = visitor.get(f"/chat/widget/{desk['queue']}/status?lang=de").json
    assert (unknown["language"], unknown["texts"]["button"]) == ("sv", "Chatta med biblioteket")


def test_the_status_is_readable_by_the_listed_websites_only(app, desk):
    set_queue(app, desk, embed_origins=SITE)
    visitor = english_client(app)
    other = visitor.get(f"/chat/widget/{desk['queue']}/status", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    assert visitor.get("/chat/widget/999999/status").status_code == 404


def test_a_closed_queue_is_offline_even_when_staffed(app, desk):
    log_in_to_service(logged_in(app, "aino"), desk["queue"])
    set_queue(app, desk, is_open=False)
    assert english_client(app).get(f"/chat/widget/{desk['queue']}/status").json["online"] is False


def test_the_script_names_the_queues_status_and_page_on_its_own_host(app, desk):
    response = english_client(app).get(f"/chat/widget/{desk['queue']}.js", base_url="https://chat.example")
    script = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    config = json.loads(script.rsplit("})(", 1)[1].removesuffix(");\n").removesuffix(");"))
    assert config["status"] == f"https://chat.example/chat/widget/{desk['queue']}/status"
    assert config["page"] == f"https://chat.example/chat/customer/?queue={desk['queue']}&embed=1"


def session_cookie(response):
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))


def test_the_customers_cookie_is_sent_in_another_sites_frame_over_https_only(app, desk):
    over_https = english_client(app).get(f"/chat/customer/?queue={desk['queue']}&embed=1",
                                         base_url="https://localhost")
    assert "SameSite=None" in session_cookie(over_https) and "Secure" in session_cookie(over_https)
    # Over http a browser refuses SameSite=None without Secure, and Secure without https: Lax.
    over_http = english_client(app).get(f"/chat/customer/?queue={desk['queue']}&embed=1")
    assert "SameSite=Lax" in session_cookie(over_http)
    # The staff's pages keep Lax over https too.
    login = english_client(app).get("/login", base_url="https://localhost")
    assert "SameSite=Lax" in session_cookie(login)
