"""The whole counter signup in a browser, keyboard only, printed to PDF, axe-core on each step."""
import io
import re
from datetime import date

from playwright.sync_api import expect
from pypdf import PdfReader
from stdnum import luhn

from blueprints.accounts.models import Unit, UnitKind
from blueprints.ebook import cards, pricing
from common.access import Role
from extensions import db
from tests.browser.conftest import assert_accessible, log_in, wait_until_live
from tests.conftest import branch_today


def pdf_text(data):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_counter_signup_with_v_enter_cost_summary_and_printed_receipt(app, make_unit, make_user, new_page):
    gieten = make_unit(UnitKind.BRANCH, name="Gieten", code="GIETEN", branch_code="9428")
    make_user("balie", (Role.COUNTER_STAFF, gieten), language="nl")
    make_user("collega", (Role.COUNTER_STAFF, gieten), language="nl")
    with app.app_context():
        pricing.seed_tariffs(db.session.get(Unit, gieten))
        cards.set_sequence("actor", 480873)
        db.session.commit()

    colleague = new_page(locale="nl")
    log_in(colleague, "collega")
    colleague.goto("/ebook/")
    wait_until_live(colleague)
    expect(colleague.get_by_text("Vandaag nog geen inschrijvingen.")).to_be_visible()
    colleague.evaluate("window.loadedOnce = true")

    page = new_page(locale="nl")
    log_in(page, "balie")
    page.goto("/ebook/")
    assert_accessible(page)
    page.get_by_role("link", name="Nieuwe klant in vestiging 9428 Gieten").click()
    expect(page.get_by_role("heading", name="Nieuwe klant")).to_be_visible()
    assert_accessible(page)

    # The card number field has the focus: "v" + Enter asks, Enter on "Ja" confirms.
    expect(page.locator("#card_number")).to_be_focused()
    page.keyboard.type("v")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Systeem nummer laten genereren?")
    assert_accessible(page)
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator("#card_number")).to_have_value("V" * 14)
    expect(page.locator("#initials")).to_be_focused()

    page.keyboard.type("E.B.")
    page.keyboard.press("Tab")  # prefix
    page.keyboard.press("Tab")
    page.keyboard.type("Tester")
    page.keyboard.press("Tab")  # first name
    page.keyboard.press("Tab")
    page.keyboard.type("04-01-1991")
    page.keyboard.press("Tab")  # the change event asks for the tariffs of this age
    expect(page.locator("#tariffs")).to_contain_text("Abonnementen voor leeftijd")
    page.locator("#postcode").focus()
    page.keyboard.type("9468bg")
    page.keyboard.press("Tab")
    page.keyboard.type("41")
    page.keyboard.press("Tab")
    expect(page.locator("#street")).to_have_value("Kruisakkers")
    expect(page.locator("#city")).to_have_value("ANNEN")
    page.get_by_label("Digital only", exact=True).focus()
    page.keyboard.press("Space")
    summary = page.locator("#cost-summary")
    expect(summary).to_contain_text("0141 Digital only")
    expect(summary).to_contain_text(re.compile(r"€\s42,00"))
    age = pricing.age_on(date(1991, 1, 4), branch_today())
    expect(summary.locator("dt:has-text('Leeftijd') + dd")).to_have_text(str(age))
    assert_accessible(page)
    page.locator("#email").focus()
    page.keyboard.type("e.b.tester@example.org")
    page.keyboard.press("Enter")  # submits the form

    # The answer of the save is the receipt itself: the password is on it, and only there.
    expect(page.get_by_role("heading", name="Bon", exact=True)).to_be_visible()
    assert_accessible(page)
    card_number = page.locator(".receipt-card-number").inner_text().strip()
    password = page.locator(".receipt-password").inner_text().strip()
    assert card_number == cards.card_number_for("9428", 1)
    assert luhn.is_valid(card_number) and card_number.startswith("29428")
    assert len(password) == 8 and not set(password) & set("0O1IL")

    # Printed on the receipt printer (80 mm) and on A4: only the receipt, no actor id.
    page.emulate_media(media="print")
    page.evaluate("document.body.classList.add('receipt-80mm')")
    slip = pdf_text(page.pdf(width="80mm", height="250mm", print_background=False))
    page.evaluate("document.body.classList.replace('receipt-80mm', 'receipt-a4')")
    a4 = pdf_text(page.pdf(format="A4"))
    for text in (slip, a4):
        flat = " ".join(text.split())
        assert card_number in flat
        assert password in flat
        assert "Gieten (9428)" in flat
        assert "Volgende stappen" in flat and "eenmalige wachtwoord" in flat
        assert "480874" not in flat
        assert "Bon printen" not in flat  # the staff buttons are not printed
    page.emulate_media(media="screen")

    # A colleague at the branch sees the signup without reloading.
    expect(colleague.locator("#todays-signups")).to_contain_text(card_number)
    assert colleague.evaluate("window.loadedOnce") is True

    # The password is not shown again; a reprint offers a new one.
    page.get_by_role("link", name="Klantoverzicht").click()
    expect(page.locator("h1")).to_contain_text(f"{card_number} [480874] | 9428 (Gieten) | Digital only")
    assert_accessible(page)
    page.get_by_role("link", name="Bon opnieuw printen").click()
    page.wait_for_url(re.compile(r"/receipt$"))
    page.reload()
    expect(page.locator(".receipt-password")).to_have_count(0)
    expect(page.get_by_role("button", name="Nieuw eenmalig wachtwoord")).to_be_visible()
    assert_accessible(page)


def test_bad_input_is_marked_at_the_field_and_the_generate_button_works(app, make_unit, make_user, new_page):
    gieten = make_unit(UnitKind.BRANCH, name="Gieten", code="GIETEN", branch_code="9428")
    make_user("balie", (Role.COUNTER_STAFF, gieten), language="nl")
    page = new_page(locale="nl")
    log_in(page, "balie")
    page.goto(f"/ebook/branches/{gieten}/customers/new")
    page.get_by_role("button", name="Nummer genereren").click()
    page.get_by_role("button", name="Ja").click()
    expect(page.locator("#card_number")).to_have_value("V" * 14)
    page.fill("#surname", "Tester")
    page.fill("#birth_date", "1991-01-04")
    page.fill("#postcode", "9468 SA")
    page.get_by_role("button", name="Opslaan en bon printen").click()
    expect(page.locator("#birth_date-error")).to_contain_text("dd-mm-jjjj")
    expect(page.locator("#postcode-error")).to_contain_text("9468 BG")
    expect(page.locator("#surname")).to_have_value("Tester")
    assert_accessible(page)
