"""Guide checklist in a real browser: live sync between two devices, accessibility, printing."""
import io
import re
import unicodedata

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from blueprints.guide import checklist_data, service
from common.access import Role
from extensions import db
from tests.browser.conftest import HANG, assert_accessible, log_in, wait_until_live


def _ensure_version(app):
    with app.app_context():
        service.ensure_first_version()
        db.session.commit()


def _start_banking_session(page):
    page.goto("/guide/")
    page.get_by_label("Online banking and strong identification").check()
    page.select_option("#device", "phone")
    page.select_option("#customer_language", "fi")
    page.get_by_role("button", name="Start the session").click()
    page.wait_for_url(re.compile(r"/guide/sessions/\d+$"))


def test_ticks_on_one_device_appear_on_the_other_live(app, make_unit, make_user, new_page):
    library = make_unit()
    make_user("opastaja", (Role.GUIDE, library))
    _ensure_version(app)
    phone = new_page()
    log_in(phone, "opastaja")
    _start_banking_session(phone)
    expect(phone.locator(".guide-raised")).to_contain_text("rule 2")
    expect(phone.locator(".guide-raised")).to_contain_text("Refer the customer to the service provider")
    session_url = phone.url

    desk = new_page()
    log_in(desk, "opastaja")
    desk.goto(session_url)
    wait_until_live(desk)
    wait_until_live(phone)

    phone.get_by_label(re.compile("1\\. Meets the customer")).check()
    expect(desk.get_by_label(re.compile("1\\. Meets the customer"))).to_be_checked()
    desk.get_by_label(re.compile("2\\. Tells the customer about the topic")).check()
    expect(phone.get_by_label(re.compile("2\\. Tells the customer about the topic"))).to_be_checked()
    desk.get_by_label(re.compile("1\\. Meets the customer")).uncheck()
    expect(phone.get_by_label(re.compile("1\\. Meets the customer"))).not_to_be_checked()
    # Two ticks in quick succession both reach the other device, whose live element stays put
    # (a refresh queued on a replaced element would never run).
    desk.evaluate("document.getElementById('session-checklist').dataset.kept = 'yes'")
    always = phone.locator(".guide-always input[type=checkbox]")
    always.nth(2).check()
    always.nth(3).check()
    expect(desk.locator(".guide-always input[type=checkbox]").nth(2)).to_be_checked()
    expect(desk.locator(".guide-always input[type=checkbox]").nth(3)).to_be_checked()
    expect(phone.locator(".guide-always input[type=checkbox]").nth(2)).to_be_checked()
    expect(desk.locator("#session-checklist")).to_have_attribute("data-kept", "yes")

    # NEVER rule 1's exception (the customer's illness or disability) is recorded on the session.
    exception = re.compile("The exception applied")
    phone.get_by_label(exception).check()
    expect(desk.get_by_label(exception)).to_be_checked()
    phone.reload()
    expect(phone.get_by_label(exception)).to_be_checked()

    # Stopped at rule 2, referred to the bank; then ended as referred to the service provider.
    phone.select_option("#referred_to", "service_provider")
    phone.get_by_role("button", name="Record the referral").click()
    expect(desk.locator("#met-heading")).to_be_visible()
    phone.get_by_role("link", name="End the session").click()
    phone.get_by_label("Referred to the service provider").check()
    phone.get_by_role("button", name="End the session").click()
    phone.wait_for_url(re.compile(r"/guide/$"))
    expect(desk.locator("#ended-heading")).to_be_visible()
    phone.goto("/guide/statistics")
    expect(phone.get_by_role("table", name="By outcome")).to_contain_text("Referred to the service provider")


def test_colleagues_list_updates_live(app, make_unit, make_user, new_page):
    library = make_unit()
    make_user("opastaja", (Role.GUIDE, library))
    make_user("kollega", (Role.GUIDE, library))
    _ensure_version(app)
    colleague = new_page()
    log_in(colleague, "kollega")
    colleague.goto("/guide/")
    wait_until_live(colleague)
    # The live element itself stays: a refresh queued on a replaced element would never run.
    colleague.evaluate("document.getElementById('guide-today').dataset.kept = 'yes'")
    guide = new_page()
    log_in(guide, "opastaja")
    _start_banking_session(guide)
    expect(colleague.locator("#guide-today")).to_contain_text("Opastaja")
    expect(colleague.locator("#guide-today")).to_have_attribute("data-kept", "yes")


def test_every_guide_page_passes_axe(app, make_unit, make_user, new_page):
    library = make_unit()
    make_user("opastaja", (Role.GUIDE, library))
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    _ensure_version(app)
    page = new_page()
    log_in(page, "opastaja")
    page.goto("/guide/")
    assert_accessible(page)
    page.get_by_role("button", name="Start the session").click()  # no topic: the error state
    expect(page.locator("#topics-error")).to_be_visible()
    assert_accessible(page)
    _start_banking_session(page)
    wait_until_live(page)
    assert_accessible(page)
    page.get_by_role("link", name="End the session").click()
    assert_accessible(page)
    page.fill("#duration_minutes", "-5")
    page.get_by_role("button", name="End the session").click()
    expect(page.locator("#duration_minutes-error")).to_be_visible()
    assert_accessible(page)
    for path in ["/guide/checklist/print", "/guide/statistics", "/guide/statistics?from=bad"]:
        page.goto(path)
        assert_accessible(page)
    admin = new_page()
    log_in(admin, "sirpa")
    for path in ["/guide/admin/checklist", "/guide/admin/checklist/items/new"]:
        admin.goto(path)
        assert_accessible(admin)
    admin.goto("/guide/admin/checklist")
    admin.get_by_role("link", name="Edit item 1").first.click()
    assert_accessible(admin)


def _squash(text):
    # NFKC undoes the PDF's ligatures (ﬁ -> fi); line breaks and hyphenation points go.
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).replace("\u00ad", "")


def test_print_view_is_one_a4_page_with_all_18_items(app, make_unit, make_user, new_page):
    library = make_unit()
    make_user("opastaja", (Role.GUIDE, library), language="fi")
    _ensure_version(app)
    page = new_page(locale="fi")
    log_in(page, "opastaja")
    page.goto("/guide/checklist/print")
    page.emulate_media(media="print")
    pdf = PdfReader(io.BytesIO(page.pdf(format="A4", print_background=True)))
    assert len(pdf.pages) == 1
    text = _squash("".join(p.extract_text() for p in pdf.pages))
    items = checklist_data.ALWAYS + checklist_data.IF_TIME + checklist_data.NEVER
    assert len(items) == 18
    for row in items:
        assert _squash(row[1]["fi"].replace("**", "")) in text, row[0]
    assert _squash("Digiopastaja asiakaspalvelutilanteessa") in text
    for framing in ("Asiakaspalvelutehtävän ydin, rohkaisua ja kannustusta digimaustein", "Lisäarvoa", "Rajoituksia"):
        assert _squash(framing) in text
    # Numbered, a box to tick by each item, bold where the seed is bold; the sheet fills the page.
    expect(page.locator(".guide-print-list li .tick-box")).to_have_count(18)
    expect(page.locator(".guide-never .guide-print-list li").first).to_contain_text("1.")
    expect(page.locator(".guide-print strong", has_text="Ei tee asiakkaan puolesta")).to_have_count(1)
    page.set_viewport_size({"width": round(186 / 25.4 * 96), "height": 1100})  # the A4 page's printable width
    filled = page.evaluate("""() => {
        const sheet = document.querySelector('.guide-print').getBoundingClientRect();
        const boxes = [...document.querySelectorAll('.tick-box')].map(b => b.getBoundingClientRect());
        return {height: sheet.height / (96 / 25.4), boxes: boxes.every(b => b.width > 8 && b.height > 8)};
    }""")
    assert filled["boxes"], filled
    assert 200 <= filled["height"] <= 273, filled  # A4 less the 12 mm margins is 273 mm high


def test_the_statistics_chart_labels_are_never_cut_off(app, make_unit, make_user, new_page):
    from datetime import datetime

    from blueprints.guide.models import GuidanceSession

    library = make_unit()
    make_user("opastaja", (Role.GUIDE, library), (Role.MAIN_USER, library), language="fi")
    _ensure_version(app)
    with app.app_context():
        version = service.current_version()
        user_id = db.session.scalar(db.select(db.text("id")).select_from(db.text("staff_user"))
                                    .where(db.text("username = 'opastaja'")))
        for month, count in ((1, 3), (2, 40), (3, 7), (11, 12)):
            for n in range(count):
                db.session.add(GuidanceSession(unit_id=library, guide_id=user_id, version_id=version.id, device="phone",
                                               customer_language="fi", started_at=datetime(2026, month, 3, 10, n),
                                               ended_at=datetime(2026, month, 3, 11, n), duration_minutes=5,
                                               outcome="solved"))
        db.session.commit()
    page = new_page(locale="fi")
    log_in(page, "opastaja")
    page.goto("/guide/statistics?from=2026-01-01&to=2026-12-01")
    outside = page.evaluate("""() => {
        const svg = document.querySelector('svg.guide-chart');
        const frame = svg.getBoundingClientRect();
        return [...svg.querySelectorAll('text')].filter(t => {
            const r = t.getBoundingClientRect();
            return r.top < frame.top || r.bottom > frame.bottom || r.left < frame.left || r.right > frame.right;
        }).map(t => t.textContent);
    }""")
    assert outside == []
    expect(page.locator("svg.guide-chart text.month").first).to_have_text("tammi")


# --- a trainer's phone and tablet -----------------------------------------------------------

PHONE, TABLET = {"width": 390, "height": 844}, {"width": 768, "height": 1024}
TEXTS = {
    "fi": {"first": "1. Kohtaa asiakkaan", "rule 2": "Ei hoida", "instead": "Ohjaa asiakas ottamaan yhteyttä",
           "chart": "Opastuksia kuukausittain"},
    "en": {"first": "1. Meets the customer", "rule 2": "Does not handle the customer's",
           "instead": "Refer the customer to the service provider", "chart": "Sessions per month"},
}


def _start_session_by_topic(page, *topics):
    page.goto("/guide/")
    for topic in topics:
        page.check(f"input[name=topics][value={topic}]")
    page.select_option("#device", "phone")
    page.select_option("#customer_language", "fi")
    page.locator("form[action$='/guide/'] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/guide/sessions/\d+$"))


@pytest.mark.parametrize("size", [PHONE, TABLET], ids=["390x844", "768x1024"])
@pytest.mark.parametrize("language", ["fi", "en"])
def test_a_session_works_one_handed_on_a_phone_and_a_tablet(app, make_unit, make_user, browser, live_server,
                                                            language, size):
    library = make_unit()
    make_user("opastaja", (Role.GUIDE, library), language=language)
    _ensure_version(app)
    context = browser.new_context(base_url=live_server.url, locale=language, viewport=size, has_touch=True,
                                  is_mobile=True)
    context.set_default_timeout(HANG)
    try:
        page = context.new_page()
        log_in(page, "opastaja")
        _start_session_by_topic(page, "banking", "installing_apps")
        wait_until_live(page)
        layout = page.evaluate("""() => {
            const root = document.scrollingElement;
            const box = e => { const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom,
                                                                           width: r.width, height: r.height}; };
            const all = s => [...document.querySelectorAll(s)].map(box);
            return {
                scrollWidth: root.scrollWidth, clientWidth: root.clientWidth,
                targets: all('#session-checklist label.guide-check'),
                boxes: all('#session-checklist label.guide-check input[type=checkbox]'),
                checklist: all('.guide-checklist .guide-group'),
                never: box(document.querySelector('.guide-never')),
                raised: all('.guide-raised'),
            };
        }""")
        # Nothing wider than the screen.
        assert layout["scrollWidth"] <= layout["clientWidth"], layout
        # Every tick (9 ALWAYS, 3 IF TIME and rule 1's exception): the row and the box itself at least 44 px.
        assert len(layout["targets"]) == len(layout["boxes"]) == 13
        small = [t for t in layout["targets"] + layout["boxes"] if t["width"] < 44 or t["height"] < 44]
        assert small == [], small
        # The checklist first, the limits after it; each raised limit in short (the rule in full on a tap).
        assert [g["top"] for g in layout["checklist"]] == sorted(g["top"] for g in layout["checklist"])
        assert layout["checklist"][-1]["bottom"] <= layout["never"]["top"]
        assert len(layout["raised"]) == 2
        assert all(r["top"] >= layout["never"]["top"] for r in layout["raised"])
        assert all(r["height"] <= size["height"] / 4 for r in layout["raised"]), layout["raised"]
        raised = page.locator(".guide-raised").first
        expect(raised).to_contain_text(TEXTS[language]["instead"])
        expect(raised.get_by_text(TEXTS[language]["rule 2"])).to_be_hidden()
        raised.locator("summary").tap()
        expect(raised.get_by_text(TEXTS[language]["rule 2"])).to_be_visible()
        # A thumb on the item's text ticks it, and the tick is stored.
        with page.expect_response(re.compile(r"/items/\d+$")):
            page.get_by_text(TEXTS[language]["first"]).tap()
        expect(page.locator(".guide-always input[type=checkbox]").first).to_be_checked()
        page.reload()
        expect(page.locator(".guide-always input[type=checkbox]").first).to_be_checked()
        assert_accessible(page)
    finally:
        context.close()


@pytest.mark.parametrize("language", ["fi", "en"])
def test_a_month_with_one_session_reads_beside_a_busy_one(app, make_unit, make_user, new_page, language):
    from datetime import datetime

    from blueprints.guide.models import GuidanceSession

    library = make_unit()
    user_id = make_user("opastaja", (Role.GUIDE, library), language=language)
    _ensure_version(app)
    with app.app_context():
        version = service.current_version()
        for month, count in ((1, 1), (2, 60)):
            for n in range(count):
                db.session.add(GuidanceSession(unit_id=library, guide_id=user_id, version_id=version.id, device="phone",
                                               customer_language="fi", started_at=datetime(2026, month, 3, 10, n),
                                               ended_at=datetime(2026, month, 3, 11, n), duration_minutes=5,
                                               outcome="solved"))
        db.session.commit()
    page = new_page(locale=language)
    log_in(page, "opastaja")
    page.goto("/guide/statistics?from=2026-01-01&to=2026-02-28")
    chart = page.get_by_role("img", name=TEXTS[language]["chart"])
    expect(chart.locator("rect.bar")).to_have_count(2)
    bars = page.evaluate("""() => {
        const svg = document.querySelector('svg.guide-chart').getBoundingClientRect();
        const counts = [...document.querySelectorAll('svg.guide-chart text.count')];
        return [...document.querySelectorAll('svg.guide-chart rect.bar')].map(bar => {
            const r = bar.getBoundingClientRect();
            const label = counts.find(t => { const l = t.getBoundingClientRect();
                return l.left >= r.left && l.right <= r.right && l.bottom <= r.top && l.top >= svg.top; });
            return {width: r.width, height: r.height, label: label ? label.textContent : null};
        });
    }""")
    lone, busy = bars
    # The one session is a bar one can see and point at, with its number above it.
    assert lone["width"] >= 30 and lone["height"] >= 8, bars
    assert lone["label"] == "1" and busy["label"] == "60", bars
    assert busy["height"] > lone["height"]
    # The count axis is labelled in steps, so the bars' heights read as numbers.
    expect(chart.locator("text.step")).to_have_text(["0", "20", "40", "60"])
    assert_accessible(page)


@pytest.mark.parametrize("language", ["fi", "en"])
def test_a_single_session_is_a_labelled_bar_on_a_scale_of_four(app, make_unit, make_user, new_page, language):
    from datetime import datetime

    from blueprints.guide.models import GuidanceSession

    library = make_unit()
    user_id = make_user("opastaja", (Role.GUIDE, library), language=language)
    _ensure_version(app)
    with app.app_context():
        db.session.add(GuidanceSession(unit_id=library, guide_id=user_id, version_id=service.current_version().id,
                                       device="phone", customer_language="fi", started_at=datetime(2026, 5, 4, 10),
                                       ended_at=datetime(2026, 5, 4, 11), duration_minutes=5, outcome="solved"))
        db.session.commit()
    page = new_page(locale=language)
    log_in(page, "opastaja")
    page.goto("/guide/statistics?from=2026-05-01&to=2026-05-31")
    chart = page.get_by_role("img", name=TEXTS[language]["chart"])
    expect(chart.locator("text.step")).to_have_text(["0", "1", "2", "3", "4"])
    expect(chart.locator("text.count")).to_have_text(["1"])
    bar = chart.locator("rect.bar").bounding_box()
    one = chart.locator("text.step", has_text="1").bounding_box()
    zero = chart.locator("text.step", has_text="0").bounding_box()
    assert bar["height"] >= 8 and bar["width"] >= 30
    # The bar reaches the axis' 1, not the top of the chart.
    assert abs(bar["y"] - (one["y"] + one["height"] / 2)) <= 3 and bar["y"] + bar["height"] > zero["y"]
