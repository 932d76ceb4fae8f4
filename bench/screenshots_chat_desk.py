"""Screenshots of the chat desk as an agent sees it in the middle of a busy shift.

One command: `python bench/screenshots_chat_desk.py` (`--out DIR` to write elsewhere). It starts
the site on a fresh SQLite database in a temporary directory, with one queue where 50 customers
wait and 12 are served by the agent, logs the agent in to customer service in Debian's Chromium
(Playwright) and saves the desk, one of the served chats open, at 1366×768 (a common laptop) and
1600×1000 as PNG files in blueprints/chat/screenshots/. For each size it prints how many rows of
the customer list are fully visible and whether the page itself scrolls.
"""
import argparse
import os
from datetime import timedelta

from screens_site import ROOT, chromium, serve, site  # noqa: E402 - the repository on sys.path first

PASSWORD = "screens-horse-battery-9"
SIZES = ((1366, 768), (1600, 1000))
FIRST_NAMES = ("Aada", "Eino", "Helmi", "Onni", "Sofia", "Väinö", "Ella", "Leo", "Aino", "Elias", "Lilja", "Oliver",
               "Venla", "Eetu", "Iida", "Niilo", "Kerttu", "Toivo", "Siiri", "Akseli", "Hilla", "Veikko", "Pihla",
               "Joel", "Enni")
LAST_NAMES = ("Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Hämäläinen", "Laine", "Heikkinen", "Koskinen")


def seed(app):
    """The agent Aino, colleagues, three queues; 50 waiting and 12 served by Aino in the first."""
    from blueprints.accounts import service
    from blueprints.accounts.models import UnitKind
    from blueprints.chat.models import ChatMessage, ChatQueue, Conversation, ConversationState, Sender
    from common.access import Role
    from common.clock import utcnow
    from extensions import db

    with app.app_context():
        db.create_all()
        unit = service.create_unit("HKI-LIB", "Helsingin kirjasto", UnitKind.LIBRARY)
        queues = [ChatQueue(unit_id=unit.id, name=name, is_open=name != "Tietokoneopastus")
                  for name in ("Kirjastoneuvonta", "Palveluesittely-Meet", "Tietokoneopastus")]
        db.session.add_all(queues)
        aino = service.create_user("aino", "Aino Agentti", "aino@library.invalid", "fi", PASSWORD,
                                   [(Role.CHAT_AGENT, unit)])
        for name in ("sara", "erja"):
            service.create_user(name, name.title(), f"{name}@library.invalid", "fi", PASSWORD,
                                [(Role.CHAT_AGENT, unit)])
        db.session.flush()
        now = utcnow()
        names = [f"{FIRST_NAMES[n % len(FIRST_NAMES)]} {LAST_NAMES[(n * 3 + n // len(FIRST_NAMES)) % len(LAST_NAMES)]}"
                 for n in range(80)]
        for n in range(12):  # joined first, then picked up by Aino
            c = Conversation(queue_id=queues[0].id, token=f"served-{n}", customer_name=names[n],
                             joined_at=now - timedelta(minutes=95 - 3 * n), state=ConversationState.SERVED,
                             agent_id=aino.id, agent_name="Aino", served_at=now - timedelta(minutes=60 - 4 * n),
                             unread_by_agent=n % 4 == 1)
            db.session.add(c)
            db.session.add_all([
                ChatMessage(conversation=c, sender=Sender.CUSTOMER, body="Hei! Miten saan uusittua lainani?",
                            sent_at=c.served_at - timedelta(minutes=1)),
                ChatMessage(conversation=c, sender=Sender.AGENT, author_name="Aino",
                            body="Hei! Lainat uusitaan Omat tiedot -sivulla. Kirjaudu ensin kirjastokortillasi.",
                            sent_at=c.served_at),
                ChatMessage(conversation=c, sender=Sender.CUSTOMER, body="Kiitos, kokeilen heti.",
                            sent_at=c.served_at + timedelta(minutes=2)),
            ])
        for n in range(50):  # the longest wait first: 49 minutes down to a moment ago
            db.session.add(Conversation(queue_id=queues[0].id, token=f"waiting-{n}", customer_name=names[12 + n],
                                        joined_at=now - timedelta(minutes=49 - n, seconds=30)))
        for n in range(3):
            db.session.add(Conversation(queue_id=queues[1].id, token=f"meet-{n}", customer_name=names[70 + n],
                                        joined_at=now - timedelta(minutes=5 - n)))
        db.session.commit()
        served = db.session.scalar(db.select(Conversation.id).where(Conversation.token == "served-3"))
        return queues[0].id, served


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "blueprints", "chat", "screenshots"))
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    app = site("chat-screens-")
    queue, served = seed(app)
    url = serve(app)
    os.makedirs(args.out, exist_ok=True)

    with sync_playwright() as playwright:
        browser = chromium(playwright)
        for width, height in SIZES:
            context = browser.new_context(base_url=url, locale="fi", viewport={"width": width, "height": height})
            page = context.new_page()
            page.goto("/login")
            page.fill("#username", "aino")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit].primary")
            page.wait_for_url(lambda u: "/login" not in u)
            page.goto("/chat/")
            if page.locator("form[action$='/chat/service/login']").count():
                page.get_by_label("Kirjastoneuvonta", exact=False).check()
                page.get_by_label("Palveluesittely-Meet", exact=False).check()
                page.locator("form[action$='/chat/service/login'] button[type=submit]").click()
                page.wait_for_selector(".chat-queue-list")
            page.goto(f"/chat/?queue={queue}&conversation={served}")
            page.wait_for_selector("body[data-live=connected]")
            page.wait_for_selector(".chat-customer")
            visible = page.evaluate("""() => {
                const list = document.querySelector('.chat-customers');
                const box = list.getBoundingClientRect();
                const bottom = Math.min(window.innerHeight, box.bottom);
                return Array.from(list.querySelectorAll('.chat-customer')).filter(row => {
                    const r = row.getBoundingClientRect();
                    return r.top >= 0 && r.bottom <= bottom;
                }).length;
            }""")
            scrolls = page.evaluate("document.scrollingElement.scrollHeight > window.innerHeight")
            path = os.path.join(args.out, f"desk-{width}x{height}.png")
            page.screenshot(path=path)
            print(f"{width}x{height}: {visible} customer rows fully visible, page scrolls: {'yes' if scrolls else 'no'}"
                  f" -> {os.path.relpath(path, ROOT)}")
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
