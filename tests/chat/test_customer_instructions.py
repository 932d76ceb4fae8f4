"""The customers' own service instructions (seed 003 begins with a link to them): a queue setting,
an http(s) address or none, edited on the queue form and shown on the desk and the customer page."""
from blueprints.chat.models import ChatQueue
from common.access import Role
from extensions import db
from tests.chat.conftest import join, log_in_to_service
from tests.chat.test_transcript_and_queue_settings import queue_form
from tests.conftest import logged_in

URL = "https://www.library.example/chat/instructions"


def instructions(app, desk):
    with app.app_context():
        return db.session.get(ChatQueue, desk["queue"]).instructions_url


def test_the_admin_sets_the_address_of_the_customers_instructions(app, make_user, desk):
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    admin = logged_in(app, "sirpa")
    form = admin.get(f"/chat/admin/queues/{desk['queue']}").get_data(as_text=True)
    assert "Address of the customers' instructions (optional)" in form and 'name="instructions_url"' in form

    saved = admin.post(f"/chat/admin/queues/{desk['queue']}", data=queue_form(desk, instructions_url=f"  {URL} "))

    assert saved.status_code == 302 and instructions(app, desk) == URL
    assert f'value="{URL}"' in admin.get(f"/chat/admin/queues/{desk['queue']}").get_data(as_text=True)
    # Left empty: none.
    admin.post(f"/chat/admin/queues/{desk['queue']}", data=queue_form(desk, instructions_url=""))
    assert instructions(app, desk) is None


def test_an_address_that_is_no_web_address_is_refused_at_the_field_and_nothing_is_stored(app, make_user, desk):
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    admin = logged_in(app, "sirpa")
    for bad in ("www.library.example/ohje", "javascript:alert(1)", "ftp://library.example/ohje",
                "https://", "https://library.example/ohje sivu", "https://library.example/" + "x" * 500):
        response = admin.post(f"/chat/admin/queues/{desk['queue']}",
                              data=queue_form(desk, name="Changed", instructions_url=bad))
        html = response.get_data(as_text=True)
        assert response.status_code == 422, bad
        assert 'id="instructions_url-error"' in html, bad
        assert 'value="Changed"' in html  # the values are kept
    with app.app_context():
        queue = db.session.get(ChatQueue, desk["queue"])
        assert (queue.name, queue.instructions_url) == ("Neuvonta", None)
    wrong = admin.post(f"/chat/admin/queues/{desk['queue']}", data=queue_form(desk, instructions_url="www.x.fi"))
    assert "Enter a web address that begins with https:// or http://" in wrong.get_data(as_text=True)


def test_the_desk_and_the_customer_page_link_to_the_instructions(app, client, desk):
    with app.app_context():
        db.session.get(ChatQueue, desk["queue"]).instructions_url = URL
        db.session.commit()
    join_page = client.get("/chat/customer/").get_data(as_text=True)
    assert f'href="{URL}"' in join_page and "Instructions for Neuvonta" in join_page
    join(client, desk)
    customer_page = client.get("/chat/customer/conversation").get_data(as_text=True)
    assert f'href="{URL}"' in customer_page and "Instructions for the chat service" in customer_page
    assert 'target="_blank"' in customer_page  # the page stays open: leaving it would start leaving the queue

    aino = logged_in(app, "aino")
    log_in_to_service(aino, desk["queue"], "Aino")
    customers = aino.get(f"/chat/partials/customers?queue={desk['queue']}").get_data(as_text=True)
    assert f'href="{URL}"' in customers and "Customers' instructions" in customers
    assert f'href="{URL}"' in aino.get(f"/chat/?queue={desk['queue']}").get_data(as_text=True)


def test_without_an_address_no_link_is_shown(app, client, desk):
    join(client, desk)
    assert "Instructions for" not in client.get("/chat/customer/conversation").get_data(as_text=True)
    aino = logged_in(app, "aino")
    customers = aino.get(f"/chat/partials/customers?queue={desk['queue']}").get_data(as_text=True)
    assert "instructions" not in customers
