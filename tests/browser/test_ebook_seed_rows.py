"""The seed's last rows in a browser: a discount followed live in the cost summary, on the
receipt and the overview; the remark and the postal address; "12a" in the house number; the
branch's discount settings. axe-core on each page."""
import re

from playwright.sync_api import expect

from blueprints.accounts.models import Unit, UnitKind
from blueprints.ebook import pricing
from blueprints.ebook.models import BranchSettings, EbookCustomer
from common.access import Role
from extensions import db
from tests.browser.conftest import assert_accessible, log_in


def a_branch_that_gives_discounts(app, make_unit, make_user):
    gieten = make_unit(UnitKind.BRANCH, name="Gieten", code="GIETEN", branch_code="9428")
    make_user("balie", (Role.COUNTER_STAFF, gieten), language="nl")
    with app.app_context():
        pricing.seed_tariffs(db.session.get(Unit, gieten))
        db.session.add(BranchSettings(unit_id=gieten, login_url="www.bibliotheekgieten.nl", card_formats="branch14",
                                      discount_reasons="Stadspas\nStudent", max_discount_percent=50))
        db.session.commit()
    return gieten


def test_a_discount_follows_live_in_the_summary_and_reaches_receipt_and_overview(app, make_unit, make_user,
                                                                                 new_page):
    gieten = a_branch_that_gives_discounts(app, make_unit, make_user)
    page = new_page(locale="nl")
    log_in(page, "balie")
    page.goto(f"/ebook/branches/{gieten}/customers/new")
    page.get_by_role("button", name="Nummer genereren").click()
    page.get_by_role("button", name="Ja").click()
    page.fill("#initials", "E.B.")
    page.fill("#surname", "Tester")
    page.fill("#birth_date", "04-01-1991")
    page.locator("#birth_date").press("Tab")
    expect(page.locator("#tariffs")).to_contain_text("Abonnementen voor leeftijd")
    page.fill("#postcode", "9468 BG")
    page.fill("#house_number", "41a")  # the addition typed with the number: moved to its field at once
    page.locator("#house_number").press("Tab")
    expect(page.locator("#street")).to_have_value("Kruisakkers")
    expect(page.locator("#house_number")).to_have_value("41")
    expect(page.locator("#house_number_addition")).to_have_value("a")
    expect(page.locator("#house_number_addition")).to_be_focused()
    page.fill("#postal_street", "Postbus")
    page.fill("#postal_house_number", "123")
    page.fill("#postal_postcode", "9400 AA")
    page.fill("#postal_city", "ASSEN")
    page.fill("#remark", "Slechtziend: grote letters")
    page.get_by_label("Digital only", exact=True).check()
    summary = page.locator("#cost-summary")
    expect(summary.locator("dt:text-is('Saldo') + dd")).to_have_text(re.compile(r"€\s42,00"))
    for label in ("Abonnement", "Inschrijfkosten", "Korting abonnement", "Korting overdracht", "Korting", "Saldo"):
        expect(summary.locator(f"dt:text-is('{label}')")).to_have_count(1)

    # Over the maximum: the summary says so at once and counts no discount.
    page.get_by_label("Percentage van het abonnement").check()
    page.fill("#discount", "60")
    page.locator("#discount").press("Tab")
    expect(summary.locator("#discount-problem")).to_contain_text(re.compile(r"hoogstens €\s21,00"))
    assert_accessible(page)
    # The refused form comes back as a page whose fields show before its scripts run (held
    # here): what is typed meanwhile reaches the summary once they do.
    held = []
    page.route("**/htmx-*.min.js", lambda route: held.append(route))
    with page.expect_request("**/htmx-*.min.js"):
        page.get_by_role("button", name="Opslaan en bon printen").click()
    expect(page.locator("#discount-error")).to_contain_text(re.compile(r"hoogstens €\s21,00"))
    expect(page.locator("#discount")).to_have_value("60")
    expect(page.locator("#remark")).to_have_value("Slechtziend: grote letters")
    expect(page.locator("#house_number")).to_have_value("41")
    expect(page.locator("#house_number_addition")).to_have_value("a")

    page.fill("#discount", "10")
    page.get_by_label("Reden van de korting").select_option("Stadspas")
    assert held, "htmx was loaded before the fields were typed in"
    for route in held:
        route.continue_()
    page.unroute("**/htmx-*.min.js")
    assert_accessible(page)
    summary = page.locator("#cost-summary")
    expect(summary.locator("dt:text-is('Korting abonnement') + dd")).to_have_text(
        re.compile(r"€\s4,20 \(10%, Stadspas\)"))
    expect(summary.locator("dt:text-is('Korting') + dd")).to_have_text(re.compile(r"€\s4,20"))
    expect(summary.locator("dt:text-is('Saldo') + dd")).to_have_text(re.compile(r"€\s37,80"))
    expect(summary.locator("#discount-problem")).to_have_count(0)
    page.get_by_role("button", name="Opslaan en bon printen").click()

    receipt = page.locator(".receipt")
    expect(receipt.locator(".receipt-discount")).to_have_text(re.compile(r"€\s4,20 \(10%, Stadspas\)"))
    expect(receipt).to_contain_text(re.compile(r"€\s37,80"))
    expect(receipt).not_to_contain_text("Slechtziend")
    assert_accessible(page)

    page.get_by_role("link", name="Klantoverzicht").click()
    overview = page.locator("#customer-overview")
    expect(overview).to_contain_text("Kruisakkers 41a")
    expect(overview.locator(".remark")).to_have_text("Opmerking: Slechtziend: grote letters")
    expect(overview.locator(".postal-address")).to_have_text("Postadres: Postbus 123, 9400 AA ASSEN")
    expect(overview.locator(".overview-grid")).to_contain_text(re.compile(r"Korting abonnement €\s4,20"))
    assert_accessible(page)
    page.get_by_role("link", name="2. NAW-gegevens").click()
    expect(page.get_by_role("row", name=re.compile("Postadres"))).to_contain_text("Postbus")
    assert_accessible(page)

    page.get_by_role("link", name="Wijzig").click()
    expect(page.locator("#remark")).to_have_value("Slechtziend: grote letters")
    expect(page.locator("#postal_city")).to_have_value("ASSEN")
    assert_accessible(page)
    page.fill("#remark", "Belt liever")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.locator(".remark")).to_have_text("Opmerking: Belt liever")
    with app.app_context():
        customer = db.session.scalar(db.select(EbookCustomer))
        assert (customer.house_number, customer.house_number_addition) == (41, "a")
        assert customer.subscription.discount_cents == 420


def test_the_branch_settings_page_keeps_the_discount_rules(app, make_unit, make_user, new_page):
    gieten = a_branch_that_gives_discounts(app, make_unit, make_user)
    make_user("beheer", (Role.SERVICE_ADMIN, None), language="nl")
    page = new_page(locale="nl")
    log_in(page, "beheer")
    page.goto(f"/ebook/branches/{gieten}/settings")
    expect(page.get_by_label("Redenen voor korting, één per regel")).to_have_value("Stadspas\nStudent")
    assert_accessible(page)
    page.get_by_label("Hoogste korting die medewerkers mogen geven, in procenten van het abonnement").fill("101")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.locator("#max_discount_percent-error")).to_contain_text("0 tot en met 100")
    assert_accessible(page)
    page.get_by_label("Redenen voor korting, één per regel").fill("Stadspas\nVrijwilliger")
    page.get_by_label("Hoogste korting die medewerkers mogen geven, in procenten van het abonnement").fill("25")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_text("De vestigingsinstellingen zijn opgeslagen.")).to_be_visible()
    with app.app_context():
        row = db.session.get(BranchSettings, gieten)
        assert (row.discount_reason_list(), row.max_discount_percent) == (["Stadspas", "Vrijwilliger"], 25)
