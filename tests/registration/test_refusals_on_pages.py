"""A refused POST answers with the page that was sent: the unit page for a transfer or a code
the add form cannot take, the customer page for credentials and its actions, the service
admin's work list for its own; the message where the part that was sent is, with the status
of the refusal (422, 409, 503 "save again") and what the person chose kept. And the writes
behind them: one transaction each, "already registered" kept when a unique key is met at once."""
from datetime import date

import pytest
from sqlalchemy import event, func, select

from blueprints.accounts import service as accounts
from blueprints.accounts.models import Unit
from blueprints.registration import service
from blueprints.registration.demo import make_hetu
from blueprints.registration.models import CredentialLink, Customer, CustomerStatus
from common.access import Role
from common.refusals import Conflict
from extensions import db
from tests.conftest import PASSWORD, Auth, audited, while_locked
from tests.registration.conftest import ADULT, customer_details, customer_fields


def set_status(app, cid, status=None, **values):
    with app.app_context():
        customer = db.session.get(Customer, cid)
        if status:
            customer.status = status
        for name, value in values.items():
            setattr(customer, name, value)
        db.session.commit()


# --- the unit page ------------------------------------------------------------------------------


def test_a_transfer_of_a_customer_marked_for_deletion_meanwhile_answers_409_on_the_unit_page(client, auth, world,
                                                                                             add_customer, app):
    cid = add_customer(world["L2"])
    set_status(app, cid, CustomerStatus.MARKED_FOR_DELETION)  # after the check offered the transfer
    auth.login("reg")
    answer = client.post(f"/registration/units/{world['L']}/transfer", data={"hetu": ADULT})
    assert answer.status_code == 409
    page = answer.text
    assert "Customer management: Library L" in page
    check_result = page.split('id="check-result"')[1].split("</div>")[0]
    assert "Only a service admin can reactivate" in check_result
    assert f'name="hetu" value="{ADULT}"' in page  # checked again with one click
    with app.app_context():
        assert db.session.get(Customer, cid).unit_id == world["L2"]
    assert audited(app, "customer.transferred") == []


def test_an_invalid_code_sent_to_the_add_form_answers_422_on_the_unit_page(client, auth, world, app):
    auth.login("reg")
    answer = client.post(f"/registration/units/{world['L']}/customers/new", data={"hetu": "131052-308X", "start": "1"})
    assert answer.status_code == 422
    assert "check character does not match" in answer.text and "Is the person already registered?" in answer.text


# --- the customer page --------------------------------------------------------------------------


def credentials_section(page):
    return page.split('id="credentials"')[1].split("</section>")[0]


def test_credentials_for_a_customership_ended_meanwhile_answer_409_on_the_customer_page(client, auth, world,
                                                                                        add_customer, app):
    cid = add_customer(world["L"])
    auth.login("reg")
    set_status(app, cid, CustomerStatus.ENDED)
    answer = client.post(f"/registration/customers/{cid}/credentials", data={"recipient": "customer"})
    assert answer.status_code == 409
    assert "active customers only" in credentials_section(answer.text)
    assert "Resume customership" in answer.text  # how it stands now
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CredentialLink)) == 0
    assert [e.detail["part"] for e in audited(app, "customer.viewed")] == ["page"]  # the page shows the details


def test_credentials_to_an_address_removed_meanwhile_answer_422_on_the_customer_page(client, auth, world, add_customer,
                                                                                     app):
    cid = add_customer(world["L"], guardian_name="Liisa", guardian_email="liisa@example.fi")
    auth.login("reg")
    set_status(app, cid, email=None)  # a colleague removed it after the page was opened
    answer = client.post(f"/registration/customers/{cid}/credentials", data={"recipient": "customer"})
    assert answer.status_code == 422
    section = credentials_section(answer.text)
    assert "Change the email first" in section and "Guardian: liisa@example.fi" in section  # what can be chosen now


# --- the service admin's work list ----------------------------------------------------------------


def test_making_a_net_user_of_one_already_answers_409_where_it_was_asked(client, auth, world, add_customer, app):
    cid = add_customer(world["L"])  # a net user
    auth.login("celia")
    from_list = client.post(f"/registration/admin/customers/{cid}/net-user")
    assert from_list.status_code == 409
    assert "Service admin work list" in from_list.text and "already a net user" in from_list.text
    from_page = client.post(f"/registration/admin/customers/{cid}/net-user", data={"back": "customer"})
    assert from_page.status_code == 409
    actions = from_page.text.split('id="actions-heading"')[1].split("</section>")[0]
    assert "already a net user" in actions
    assert audited(app, "customer.made_net_user") == []


def test_reactivating_one_reactivated_meanwhile_answers_409_where_it_was_asked(client, auth, world, add_customer, app):
    cid = add_customer(world["L"])
    auth.login("celia")
    assert client.post(f"/registration/admin/customers/{cid}/mark-for-deletion").status_code == 302
    page = client.get(f"/registration/customers/{cid}").text
    assert 'name="back" value="customer"' in page.split(f"registration/admin/customers/{cid}/reactivate")[1][:200]
    assert client.post(f"/registration/admin/customers/{cid}/reactivate",
                       data={"back": "customer"}).headers["Location"] \
        .endswith(f"/registration/customers/{cid}")
    from_list = client.post(f"/registration/admin/customers/{cid}/reactivate")
    assert from_list.status_code == 409 and "not marked for deletion" in from_list.text
    assert "Reactivation requests" in from_list.text
    from_page = client.post(f"/registration/admin/customers/{cid}/reactivate", data={"back": "customer"})
    assert from_page.status_code == 409 and "not marked for deletion" in from_page.text
    assert "Mark for deletion" in from_page.text  # how it stands now
    assert len(audited(app, "customer.reactivated")) == 1


# --- the writes ---------------------------------------------------------------------------------


def test_a_code_stored_by_another_save_at_the_same_moment_is_already_registered_and_audited(app, world, add_customer,
                                                                                            monkeypatch):
    """Where writers do not queue for a lock (PostgreSQL), the look-up may miss a registration
    saved at the same moment: the unique key stops the second one, in a savepoint, and the
    answer is still "already registered", audited as a look-up."""
    cid = add_customer(world["L2"])
    real = service.find_by_hetu
    missed = []

    def first_misses(code):
        if not missed:
            missed.append(code)
            return None
        return real(code)

    monkeypatch.setattr(service, "find_by_hetu", first_misses)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(Conflict, match="already registered"):
            service.register_customer(db.session.get(Unit, world["L"]), ADULT, customer_details(last_name="Toinen"))
    assert missed
    [lookup] = audited(app, "customer.hetu_checked")
    assert lookup.detail["outcome"] == "registered_already" and lookup.object_id == str(cid)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 1


def test_the_check_reads_nothing_again_after_its_audit_record(client, auth, world, add_customer, app):
    """The check's only change is its audit record: committed without expiring the user and
    unit, so the answer is rendered from what was loaded."""
    add_customer(world["L2"])
    auth.login("reg")
    statements = []

    def log(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.split()[0].upper())

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", log)
    try:
        page = client.post(f"/registration/units/{world['L']}/check", data={"hetu": ADULT},
                           headers={"HX-Request": "true"}).text
    finally:
        event.remove(engine, "before_cursor_execute", log)
    assert "Library L2" in page
    assert "INSERT" in statements and "SELECT" not in statements[statements.index("INSERT"):]


# --- a database that gives no turn in time -----------------------------------------------------------


@pytest.fixture
def busy(locked_sqlite_app):
    """The locked app with a customer of the registrar's library and a service admin."""
    app, client, ids, _tariff, other_writer = locked_sqlite_app
    with app.app_context():
        accounts.create_user("celia", "Celia", "celia@example.org", "en", PASSWORD, [(Role.SERVICE_ADMIN, None)])
        db.session.commit()
    with app.test_request_context():
        unit = db.session.get(Unit, ids["library"])
        cid = service.register_customer(unit, make_hetu(date(1975, 4, 5), 222), customer_details(service_form="cd")).id
    return app, client, cid, other_writer


def test_an_edit_that_gets_no_turn_keeps_the_values_and_says_save_again(busy):
    app, client, cid, other_writer = busy
    Auth(client).login("reg")
    answer = while_locked(other_writer, lambda: client.post(f"/registration/customers/{cid}/edit",
                                                            data=customer_fields(last_name="Kärsivällinen"),
                                                            headers={"HX-Request": "true"}))
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "1"
    assert "save again" in answer.text and 'value="Kärsivällinen"' in answer.text
    assert 'class="customer-form"' in answer.text  # the edit form, not an error page
    with app.app_context():
        assert db.session.get(Customer, cid).last_name == "Äijälä"


def test_a_work_list_action_that_gets_no_turn_answers_503_on_the_work_list(busy):
    app, client, cid, other_writer = busy
    Auth(client).login("celia")
    answer = while_locked(other_writer, lambda: client.post(f"/registration/admin/customers/{cid}/net-user"))
    assert answer.status_code == 503
    assert "save again" in answer.text and "CD borrowers" in answer.text
    with app.app_context():
        assert db.session.get(Customer, cid).service_form == "cd"
