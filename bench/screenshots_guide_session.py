"""Screenshots of a guidance session as a trainer sees it on a phone and on a tablet.

One command: `python bench/screenshots_guide_session.py` (`--out DIR` to write elsewhere). It starts
the site on a fresh SQLite database in a temporary directory, with a guide in the middle of a
session about online banking and installing apps (two NEVER rules raised, three items ticked,
one limit already met), logs the guide in in Debian's Chromium (Playwright) and saves the
session page at 390×844 (a phone) and 768×1024 (a tablet) as PNG files in
blueprints/guide/screenshots/: the first screen (`session-WxH.png`) and the whole page
(`session-WxH-full.png`). For each size, and for a 1366×768 laptop, it prints the page's
height, whether the page scrolls sideways, the smallest tick target (the row one taps, and the
box in it) and whether the checklist comes before the raised limits.
"""
import argparse
import os
from datetime import timedelta

from screens_site import ROOT, chromium, serve, site  # noqa: E402 - the repository on sys.path first

PASSWORD = "screens-horse-battery-9"
SIZES = ((390, 844), (768, 1024))
LAPTOP = (1366, 768)  # measured and printed, not saved


def seed(app):
    """The guide Oona of one library and her session in progress; returns the session's id."""
    from blueprints.accounts import service as accounts
    from blueprints.accounts.models import UnitKind
    from blueprints.guide import service
    from blueprints.guide.models import GuidanceSession, ItemGroup, LimitMet, Referral, SessionTick, SessionTopic
    from common.access import Role
    from common.clock import utcnow
    from extensions import db

    with app.app_context():
        db.create_all()
        unit = accounts.create_unit("HKI-LIB", "Helsingin kirjasto", UnitKind.LIBRARY)
        oona = accounts.create_user("oona", "Oona Opastaja", "oona@library.invalid", "fi", PASSWORD,
                                    [(Role.GUIDE, unit)])
        version = service.ensure_first_version()
        db.session.flush()
        now = utcnow()
        session = GuidanceSession(unit_id=unit.id, guide_id=oona.id, version=version, device="phone",
                                  customer_language="fi", started_at=now - timedelta(minutes=12),
                                  topics=[SessionTopic(topic="banking"), SessionTopic(topic="installing_apps")])
        db.session.add(session)
        db.session.flush()
        always = version.group(ItemGroup.ALWAYS)
        for item in (always[0], always[1], always[3]):
            db.session.add(SessionTick(session_id=session.id, item_id=item.id, ticked_by_id=oona.id))
        never_2 = next(i for i in version.group(ItemGroup.NEVER) if i.key == "never-2")
        db.session.add(LimitMet(session_id=session.id, item_id=never_2.id, referred_to=Referral.SERVICE_PROVIDER,
                                recorded_by_id=oona.id, recorded_at=now - timedelta(minutes=3)))
        db.session.commit()
        return session.id


MEASURE = """() => {
    const root = document.scrollingElement;
    const side = s => Math.floor(Math.min(...[...document.querySelectorAll(s)].map(e => {
        const r = e.getBoundingClientRect();
        return Math.min(r.width, r.height);
    })));
    const checklist = document.querySelector('.guide-always').getBoundingClientRect();
    const limits = [...document.querySelectorAll('.guide-raised')].map(r => r.getBoundingClientRect());
    return {
        height: root.scrollHeight,
        sideways: root.scrollWidth > root.clientWidth,
        row: side('#session-checklist .guide-check'),
        box: side('#session-checklist .guide-check input'),
        checklistFirst: limits.every(r => r.top >= checklist.top),
    };
}"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "blueprints", "guide", "screenshots"))
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    app = site("guide-screens-")
    session_id = seed(app)
    url = serve(app)
    os.makedirs(args.out, exist_ok=True)

    with sync_playwright() as playwright:
        browser = chromium(playwright)
        for width, height in (*SIZES, LAPTOP):
            touch = (width, height) in SIZES
            context = browser.new_context(base_url=url, locale="fi", viewport={"width": width, "height": height},
                                          has_touch=touch, is_mobile=touch, device_scale_factor=1)
            page = context.new_page()
            page.goto("/login")
            page.fill("#username", "oona")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit].primary")
            page.wait_for_url(lambda u: "/login" not in u)
            page.goto(f"/guide/sessions/{session_id}")
            page.wait_for_selector("body[data-live=connected]")
            figures = page.evaluate(MEASURE)
            saved = ""
            if touch:
                first = os.path.join(args.out, f"session-{width}x{height}.png")
                full = os.path.join(args.out, f"session-{width}x{height}-full.png")
                page.screenshot(path=first)
                page.screenshot(path=full, full_page=True)
                saved = f" -> {os.path.relpath(first, ROOT)}, {os.path.relpath(full, ROOT)}"
            print(f"{width}x{height}: page {figures['height']} px high, scrolls sideways: "
                  f"{'yes' if figures['sideways'] else 'no'}, "
                  f"smallest tick row {figures['row']} px and box {figures['box']} px, "
                  f"checklist before the limits: {'yes' if figures['checklistFirst'] else 'no'}{saved}")
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
