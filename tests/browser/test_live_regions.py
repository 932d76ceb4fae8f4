"""Live regions never take what a person is doing: a message sent right after (or during) a
live redraw is stored exactly once and nothing typed reaches a URL; a draft, the focus, an
opened box and the page number survive the redraws; a tick right after a redraw counts."""
import http.cookiejar
import re
import threading
import time
import urllib.parse
import urllib.request
from datetime import date, timedelta

from playwright.sync_api import expect
from sqlalchemy import func, select

from blueprints.accounts.models import Unit, User
from blueprints.chat import internal as chat_internal
from blueprints.chat import live as chat_live
from blueprints.chat import service as chat_service
from blueprints.chat.models import ChatMessage, ChatQueue, Conversation, InternalMessage
from blueprints.guide import service as guide_service
from blueprints.guide.models import SessionTick
from blueprints.registration import service as registration_service
from blueprints.registration.demo import make_hetu
from common.access import Role
from extensions import db
from tests.browser.conftest import assert_accessible, confirm, log_in, wait_until_live
from tests.browser.test_chat_desk import agent_page
from tests.browser.test_chat_reliability import join
from tests.registration.conftest import customer_details

# Redraw a live region as an event would, and resolve `delay` ms after its swap (or at once,
# with the refresh still in flight, for a delay of None).
REDRAW = """([selector, delay]) => new Promise(resolve => {
  const region = document.querySelector(selector);
  if (delay === null) { Live.refreshRegion(region); resolve(); return; }
  region.addEventListener("htmx:afterSwap", () => setTimeout(resolve, delay), {once: true});
  Live.refreshRegion(region);
})"""
DELAYS = (None, 0, 5, 15, 30)


def redraw(page, selector, delay):
    page.evaluate(REDRAW, [selector, delay])


def stored(app, model, body):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(model.body == body))


def open_queue(app, make_unit, make_user, *agents):
    """An open queue, Neuvonta, in a new library with these chat agents: (library, queue id)."""
    library = make_unit()
    for name in agents:
        make_user(name, (Role.CHAT_AGENT, library))
    with app.app_context():
        queue = ChatQueue(unit_id=library, name="Neuvonta", is_open=True)
        db.session.add(queue)
        db.session.commit()
        return library, queue.id


def served_chat(app, make_unit, make_user, new_page):
    """Aino at her desk serving Toni, whose page is open too."""
    library, _queue_id = open_queue(app, make_unit, make_user, "aino")
    aino = agent_page(new_page, "aino", "Neuvonta")
    toni = new_page()
    toni.goto("/chat/customer/")
    toni.get_by_label("Your name").fill("Toni")
    toni.get_by_role("button", name="Join the queue").click()
    wait_until_live(toni)
    aino.get_by_role("link", name="Neuvonta").click()
    aino.locator(".chat-customer", has_text="Toni").get_by_role("link", name="Toni").click()
    aino.get_by_role("button", name="Start text chat").click()
    confirm(aino)
    expect(toni.get_by_text("You are chatting with Aino.")).to_be_visible()
    return aino, toni, library


def test_enter_right_after_or_during_a_redraw_stores_each_message_once(app, make_unit, make_user, new_page):
    aino, toni, _ = served_chat(app, make_unit, make_user, new_page)
    desk_url, customer_url = aino.url, toni.url
    sent = []
    for page, region, who in ((aino, "#chat-view", "agent"), (toni, "#customer-conversation", "customer")):
        for delay in DELAYS:
            text = f"{who} after {delay} ms"
            box = page.locator("#chat-body")
            box.fill(text)
            redraw(page, region, delay)
            box.press("Enter")
            sent.append(text)
            expect(box).to_have_value("")
            expect(box).to_be_focused()
    for text in sent:
        expect(aino.locator(".chat-line", has_text=text)).to_have_count(1)
        expect(toni.locator(".chat-line", has_text=text)).to_have_count(1)
        assert stored(app, ChatMessage, text) == 1, text
    assert aino.url == desk_url and toni.url == customer_url
    assert "body=" not in aino.url + toni.url


def test_a_new_line_comes_with_its_event_and_the_chat_is_not_read_again(app, make_unit, make_user, new_page):
    aino, toni, _ = served_chat(app, make_unit, make_user, new_page)
    aino.locator("#chat-body").fill("Valmiina tähän")  # a draft that must stay
    reads = {"agent": [], "customer": []}
    aino.on("request", lambda r: reads["agent"].append(urllib.parse.urlsplit(r.url).path))
    toni.on("request", lambda r: reads["customer"].append(urllib.parse.urlsplit(r.url).path))

    for n in range(3):
        toni.locator("#chat-body").fill(f"Asiakkaan rivi {n}")
        toni.locator("#chat-body").press("Enter")
        expect(aino.locator("#chat-lines .chat-line").last).to_contain_text(f"Asiakkaan rivi {n}")
        expect(toni.locator("#chat-lines .chat-line").last).to_contain_text(f"Asiakkaan rivi {n}")
    # The customer's lines reached the desk rendered in their events: no request at all.
    assert not [path for path in reads["agent"] if path.startswith("/chat/partials/")]
    aino.locator("#chat-body").fill("Vastaus")
    aino.locator("#chat-body").press("Enter")
    expect(toni.locator("#chat-lines .chat-line").last).to_contain_text("Vastaus")
    expect(aino.locator("#chat-lines .chat-line").last).to_contain_text("Vastaus")

    # Each line once, in order, and neither page read its whole chat again for them.
    for page in (aino, toni):
        texts = page.locator("#chat-lines .chat-body").all_inner_texts()
        assert texts[-4:] == ["Asiakkaan rivi 0", "Asiakkaan rivi 1", "Asiakkaan rivi 2", "Vastaus"]
        assert len(texts) == len(set(texts))
    assert "/chat/partials/chat" not in reads["agent"] and "/chat/customer/conversation" not in reads["customer"]
    expect(aino.locator(".chat-announcer, #chat-announcer")).to_contain_text("Vastaus")


def unread_by_agent(app, conversation_id):
    with app.app_context():
        return db.session.get(Conversation, conversation_id).unread_by_agent


def test_a_line_shown_as_it_came_is_read_and_moving_on_brings_no_new_messages_badge(app, make_unit, make_user,
                                                                                    new_page):
    aino, toni, _library = served_chat(app, make_unit, make_user, new_page)
    toni.locator("#chat-body").fill("Kysymys tuli")
    toni.locator("#chat-body").press("Enter")
    expect(aino.locator(".chat-line", has_text="Kysymys tuli")).to_be_visible()
    with app.app_context():
        conversation_id = db.session.scalar(select(Conversation.id))
    assert unread_by_agent(app, conversation_id)  # shown with its event: no request has said so yet
    # Aino moves on to the queue: that request says what her desk showed.
    aino.get_by_role("link", name="Neuvonta").click()
    active = aino.locator("#chat-active")
    expect(active).to_contain_text("Kysymys tuli")
    expect(active).not_to_contain_text("New messages!")
    assert not unread_by_agent(app, conversation_id)


def test_a_draft_keeps_its_text_and_focus_through_live_redraws_and_is_sent_once(app, make_unit, make_user, new_page):
    aino, toni, _ = served_chat(app, make_unit, make_user, new_page)
    box = aino.locator("#chat-body")
    box.click()
    box.press_sequentially("Hetkinen, katson")
    for n in range(3):  # the customer's lines redraw the agent's chat column
        toni.locator("#chat-body").fill(f"Kysymys {n}")
        toni.locator("#chat-body").press("Enter")
        expect(aino.locator(".chat-line-customer", has_text=f"Kysymys {n}")).to_have_count(1)
    expect(box).to_have_value("Hetkinen, katson")
    expect(box).to_be_focused()
    box.press_sequentially(" heti.")
    box.press("Enter")
    expect(toni.locator(".chat-line-agent", has_text="Hetkinen, katson heti.")).to_have_count(1)
    assert stored(app, ChatMessage, "Hetkinen, katson heti.") == 1


def test_a_message_sent_while_the_connection_is_down_waits_and_goes_once(app, make_unit, make_user, new_page):
    aino, toni, _ = served_chat(app, make_unit, make_user, new_page)
    toni.context.set_offline(True)
    box = toni.locator("#chat-body")
    box.fill("Oletteko siellä?")
    box.press("Enter")
    expect(toni.locator(".chat-pending-line[data-state=unsent]")).to_contain_text("Not sent")
    assert stored(app, ChatMessage, "Oletteko siellä?") == 0
    toni.context.set_offline(False)
    expect(aino.locator(".chat-line-customer", has_text="Oletteko siellä?")).to_have_count(1)
    expect(toni.locator(".chat-pending-line")).to_have_count(0)
    assert stored(app, ChatMessage, "Oletteko siellä?") == 1


def test_the_queue_settings_keep_a_half_typed_waiting_message_through_live_updates(app, make_unit, make_user, new_page):
    aino, toni, _ = served_chat(app, make_unit, make_user, new_page)
    aino.get_by_role("link", name="Queue settings").click()
    message = aino.get_by_label("Waiting message")
    message.fill("Palvelemme noin")
    redraw(aino, "#chat-customers", 0)
    toni.locator("#chat-body").fill("Hei")  # a real event too
    toni.locator("#chat-body").press("Enter")
    expect(aino.locator(".chat-line-customer", has_text="Hei")).to_have_count(1)
    expect(message).to_have_value("Palvelemme noin")
    message.press_sequentially(" 5 minuutissa.")
    aino.get_by_role("button", name="Save waiting message").click()
    saved = aino.get_by_text("The waiting message has been changed.")
    expect(saved).to_be_visible()
    redraw(aino, "#chat-customers", 0)
    expect(saved).to_be_visible()  # stays until the agent closes the box or leaves
    with app.app_context():
        assert db.session.scalar(select(ChatQueue.waiting_message)) == "Palvelemme noin 5 minuutissa."


def internal_chat(make_unit, make_user, new_page):
    """Aino's desk with her internal chat with Erja open, live."""
    library = make_unit()
    make_user("aino", (Role.CHAT_AGENT, library))
    make_user("erja", (Role.CHAT_AGENT, library))
    aino = new_page()
    log_in(aino, "aino")
    aino.goto("/chat/?colleagues=1")
    wait_until_live(aino)
    aino.get_by_role("button", name="Erja").click()
    aino.wait_for_url(re.compile(r"internal=\d+"))
    wait_until_live(aino)
    return aino


def test_internal_chat_messages_after_a_redraw_are_stored_once(app, make_unit, make_user, new_page):
    aino = internal_chat(make_unit, make_user, new_page)
    box = aino.locator("#chat-body")
    for delay in DELAYS:
        box.fill(f"sisäinen {delay}")
        redraw(aino, "#chat-view", delay)
        box.press("Enter")
        expect(box).to_have_value("")
    for delay in DELAYS:
        expect(aino.locator(".chat-line", has_text=f"sisäinen {delay}")).to_have_count(1)
        assert stored(app, InternalMessage, f"sisäinen {delay}") == 1
    assert "body=" not in aino.url


def hold_the_chats_read(app, aino):
    """Hold Aino's read of her internal chat in flight and return (the held route, the chat as it
    was when the read began, the conversation)."""
    held = []
    aino.route("**/chat/partials/internal/*", lambda route: route.continue_() if held else held.append(route))
    redraw(aino, "#chat-view", None)
    while not held:
        aino.wait_for_timeout(20)
    as_it_was = aino.request.get(held[0].request.url).text()
    with app.test_request_context():
        erja = db.session.scalar(select(User).where(User.username == "erja"))
        conversation = chat_internal.start_chat(erja, db.session.scalar(select(User).where(User.username == "aino")))
        db.session.expunge(conversation)
    return held[0], as_it_was, conversation


def test_an_event_heard_while_the_region_is_being_read_is_read_after_it(app, make_unit, make_user, new_page):
    aino = internal_chat(make_unit, make_user, new_page)
    aino.evaluate("document.body.addEventListener('live:internal-changed', () => { window.heard = true; })")
    held, as_it_was, conversation = hold_the_chats_read(app, aino)
    # Erja's name changes meanwhile, and the chat is told of it.
    with app.test_request_context():
        db.session.scalar(select(User).where(User.username == "erja")).display_name = "Erja Uusinimi"
        chat_live.announce_internal(db.session.merge(conversation))
        db.session.commit()
    aino.wait_for_function("() => window.heard === true")
    held.fulfill(body=as_it_was, content_type="text/html; charset=utf-8")

    # The event heard during the read is not lost: the region reads itself again.
    expect(aino.get_by_role("heading", name="Erja Uusinimi")).to_be_visible()


def test_a_line_pushed_while_its_chat_is_being_read_stays_when_the_older_answer_comes(app, make_unit, make_user,
                                                                                      new_page):
    aino = internal_chat(make_unit, make_user, new_page)
    aino.evaluate("document.body.addEventListener('live:internal-line', () => { window.heard = true; })")
    held, as_it_was, conversation = hold_the_chats_read(app, aino)
    with app.test_request_context():
        erja = db.session.scalar(select(User).where(User.username == "erja"))
        chat_internal.send(db.session.merge(conversation), erja, "Kirjoitin kesken lukemisen")
    aino.wait_for_function("() => window.heard === true")
    line = aino.locator(".chat-line-colleague", has_text="Kirjoitin kesken lukemisen")
    expect(line).to_have_count(1)
    # The answer rendered before the line comes now, without it: the line stays, once.
    aino.evaluate("""document.querySelector('#chat-view').addEventListener('htmx:afterSwap',
                     () => { window.swapped = true; }, {once: true})""")
    held.fulfill(body=as_it_was, content_type="text/html; charset=utf-8")
    aino.wait_for_function("() => window.swapped === true")
    expect(line).to_have_count(1)
    expect(aino.locator("#internal-lines [data-live-empty]")).to_have_count(0)


def sara_waits_too(new_page, aino):
    """Sara joins Aino's queue while Aino serves Toni; her page, once live."""
    sara = new_page()
    join(sara, "Sara")
    expect(aino.locator(".chat-customer").get_by_role("link", name="Sara")).to_be_visible()
    return sara


def test_a_focused_button_says_what_it_does_once_the_chat_has_changed(app, make_unit, make_user, new_page):
    aino, _toni, _ = served_chat(app, make_unit, make_user, new_page)
    aino.get_by_role("button", name="Release to queue").focus()
    # Toni goes back to the queue from elsewhere (a colleague's transfer, another tab of Aino's).
    with app.test_request_context():
        conversation = db.session.scalar(select(Conversation).where(Conversation.customer_name == "Toni"))
        chat_service.release(conversation, db.session.scalar(select(User).where(User.username == "aino")))
    buttons = aino.locator("#chat-view .chat-controls button")
    expect(buttons).to_have_text(["Start text chat", "Start video chat", "Remove from queue"])
    assert "/video" in buttons.nth(1).get_attribute("hx-post")  # the one that had the focus


def test_a_button_clicked_the_moment_a_boosted_link_morphed_it_does_its_new_action(app, make_unit, make_user, new_page):
    aino, toni, _ = served_chat(app, make_unit, make_user, new_page)
    sara = sara_waits_too(new_page, aino)
    posted = []
    aino.on("request", lambda request: posted.append(request.url) if request.method == "POST" else None)
    # The moment between the swap and its settling, made long: Toni's Start video chat has
    # become Sara's Start text chat by then.
    aino.evaluate("() => { htmx.config.defaultSettleDelay = 3000; }")
    aino.locator(".chat-customer").get_by_role("link", name="Sara").click()
    aino.get_by_role("button", name="Start text chat").click()
    confirm(aino)
    expect(sara.get_by_text("You are chatting with Aino.")).to_be_visible()
    assert not [url for url in posted if "/video" in url], posted
    expect(toni.locator(".chat-video")).to_be_hidden()


def test_a_chats_answer_asked_for_before_the_desk_moved_on_does_not_bring_it_back(app, make_unit, make_user, new_page):
    aino, _toni, _ = served_chat(app, make_unit, make_user, new_page)
    sara_waits_too(new_page, aino)
    held = []
    aino.route("**/chat/partials/chat?*", lambda route: route.continue_() if held else held.append(route))
    redraw(aino, "#chat-view", None)  # Toni's chat is being read...
    while not held:
        aino.wait_for_timeout(20)
    aino.locator(".chat-customer").get_by_role("link", name="Sara").click()  # ...when Aino moves on
    expect(aino.locator("#chat-heading")).to_have_text("Sara")
    aino.evaluate("""() => { document.body.addEventListener('htmx:afterOnLoad',
                     () => { window.answered = true; }, {once: true}); }""")
    held[0].continue_()
    aino.wait_for_function("() => window.answered === true")
    expect(aino.locator("#chat-heading")).to_have_text("Sara")
    expect(aino.get_by_role("button", name="Start text chat")).to_be_visible()


def test_an_action_whose_answer_is_on_its_way_keeps_its_form_through_its_own_events_redraw(app, make_unit, make_user,
                                                                                           new_page):
    aino, _toni, library = served_chat(app, make_unit, make_user, new_page)
    with app.app_context():
        db.session.add(ChatQueue(unit_id=library, name="Tietokoneopastus", is_open=False))
        db.session.commit()
    errors = []
    aino.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    aino.get_by_role("button", name="Transfer to another queue").click()
    aino.get_by_label("Target queue").select_option(index=1)
    held = []
    aino.route("**/transfer?*",
               lambda route: held.append(route) if route.request.method == "POST" else route.continue_())
    aino.get_by_role("button", name="Transfer", exact=True).click()
    while not held:
        aino.wait_for_timeout(20)
    # The transfer is done and its event redraws the chat before its answer reaches the page (as
    # when the events go through Redis): the chat, now in the other queue, has no transfer box.
    answer = held[0].fetch()
    expect(aino.locator(".chat-queue-chain")).to_have_text("Queues: Neuvonta → Tietokoneopastus")
    held[0].fulfill(response=answer)
    # The answer lands all the same: the box goes and the focus is on the queue's customers.
    expect(aino.locator("#customers-heading")).to_be_focused()
    expect(aino.get_by_label("Target queue")).to_have_count(0)
    assert not [text for text in errors if "htmx" in text], errors


def test_a_tick_right_after_a_redraw_counts_once(app, make_unit, make_user, new_page):
    library = make_unit()
    make_user("opastaja", (Role.GUIDE, library))
    with app.app_context():
        guide_service.ensure_first_version()
        db.session.commit()
    page = new_page()
    log_in(page, "opastaja")
    page.goto("/guide/")
    page.get_by_label("Online banking and strong identification").check()
    page.select_option("#device", "phone")
    page.select_option("#customer_language", "fi")
    page.get_by_role("button", name="Start the session").click()
    page.wait_for_url(re.compile(r"/guide/sessions/\d+$"))
    wait_until_live(page)
    boxes = page.locator(".guide-always input[type=checkbox]")
    for n, delay in enumerate(DELAYS):
        redraw(page, "#session-checklist", delay)
        boxes.nth(n).check()
    for n in range(len(DELAYS)):
        expect(boxes.nth(n)).to_be_checked()
    page.reload()
    for n in range(len(DELAYS)):
        expect(boxes.nth(n)).to_be_checked()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SessionTick)) == len(DELAYS)


def test_a_live_refresh_keeps_the_page_of_the_customer_list(app, make_unit, make_user, new_page):
    library = make_unit()
    make_user("riikka", (Role.REGISTRAR, library))
    with app.test_request_context():
        unit = db.session.get(Unit, library)
        for n in range(120):
            registration_service.register_customer(unit, make_hetu(date(1960, 1, 1) + timedelta(days=n), 200 + n),
                                                   customer_details(last_name=f"Virtanen{n:03d}",
                                                                    email=f"a{n}@example.fi"))
    page = new_page()
    log_in(page, "riikka")
    page.goto(f"/registration/units/{library}?page=3")
    wait_until_live(page)
    pager = page.locator("#customer-list .pager")
    expect(pager).to_contain_text("Page 3 of 3")
    first_row = page.locator("#customer-list tbody tr").first.inner_text()
    redraw(page, "#customer-list", 0)
    expect(pager).to_contain_text("Page 3 of 3")
    assert page.locator("#customer-list tbody tr").first.inner_text() == first_row


class Customer:
    """A customer's browser reduced to its cookies: joins a queue and writes, over HTTP."""

    def __init__(self, base_url, queue_id, name):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.post("/chat/customer/", {"queue": queue_id, "name": name})

    def token(self, path):
        html = self.opener.open(self.base_url + path).read().decode()
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    def post(self, path, fields):
        fields = dict(fields, csrf_token=self.token("/chat/customer/"))
        self.opener.open(self.base_url + path, urllib.parse.urlencode(fields).encode()).read()

    def write(self, body):
        self.post("/chat/customer/message", {"body": body})


def test_an_agent_with_twelve_customers_writing_types_one_long_answer_without_losing_a_word(
        app, live_server, make_unit, make_user, new_page):
    _library, queue_id = open_queue(app, make_unit, make_user, "aino")
    aino = agent_page(new_page, "aino", "Neuvonta")
    customers = [Customer(live_server.url, queue_id, f"Asiakas {n:02d}") for n in range(12)]
    with app.app_context():
        aino_user = db.session.scalar(select(User).where(User.username == "aino"))
        chats = [c.id for c in chat_service.customers_of(queue_id)]
        for chat in chats:
            chat_service.claim(chat, aino_user)
    aino.goto(f"/chat/?queue={queue_id}&conversation={chats[0]}")
    wait_until_live(aino)
    expect(aino.locator(".chat-active li")).to_have_count(12)

    def write_all():
        for round_ in range(2):
            for n, customer in enumerate(customers):
                customer.write(f"Asiakas {n:02d} kirjoittaa {round_}")
                time.sleep(0.05)

    writers = threading.Thread(target=write_all)
    writers.start()
    answer = ("Hyvä kysymys. Lainat voi uusia verkkokirjastossa kohdasta Omat tiedot, "
              "jos kukaan ei ole varannut niitä. Uusia voi viisi kertaa peräkkäin.")
    box = aino.locator("#chat-body")
    box.click()
    box.press_sequentially(answer, delay=15)
    writers.join()
    expect(box).to_have_value(answer)
    box.press("Enter")
    expect(aino.locator(".chat-line-agent", has_text="Uusia voi viisi kertaa")).to_have_count(1)
    assert stored(app, ChatMessage, answer) == 1
    for round_ in range(2):
        for n in range(12):
            assert stored(app, ChatMessage, f"Asiakas {n:02d} kirjoittaa {round_}") == 1
    expect(aino.locator(".chat-line-customer", has_text="Asiakas 00 kirjoittaa 1")).to_have_count(1)
    expect(aino.locator(".chat-active .chat-badge")).to_have_count(11)  # every chat but the open one


def test_a_join_reaches_every_desk_with_its_row_and_no_request(app, make_unit, make_user, new_page, live_server):
    _library, queue_id = open_queue(app, make_unit, make_user, "aino", "erja")
    desks = [agent_page(new_page, name, "Neuvonta") for name in ("aino", "erja")]
    reads = []
    for desk in desks:
        desk.get_by_role("link", name="Neuvonta").click()
        expect(desk.locator("#chat-customers")).to_contain_text("Nobody in the queue.")
        desk.on("request", lambda r: reads.append(urllib.parse.urlsplit(r.url).path))

    for n in range(3):  # the first into an empty queue, then each after the one before
        Customer(live_server.url, queue_id, f"Jonottaja {n}")
        for desk in desks:
            expect(desk.locator("#chat-customers .chat-customer").last).to_contain_text(f"Jonottaja {n}")

    for desk in desks:
        expect(desk.locator("#chat-customers .chat-customer a")).to_have_text(["Jonottaja 0", "Jonottaja 1",
                                                                               "Jonottaja 2"])
        expect(desk.locator("#chat-customers")).not_to_contain_text("Nobody in the queue.")
        expect(desk.locator(f'[data-queue-count="{queue_id}"]')).to_have_attribute("data-count", "3")
    assert not [path for path in reads if path.startswith("/chat/partials/")]
    assert_accessible(desks[0])


def test_a_full_page_of_the_queue_passes_its_last_customer_on_and_its_pager_counts_a_new_page_without_a_request(
        app, make_unit, make_user, new_page, live_server):
    from blueprints.chat.service import CUSTOMERS_PAGE_SIZE

    _library, queue_id = open_queue(app, make_unit, make_user, "aino")
    for n in range(CUSTOMERS_PAGE_SIZE):
        Customer(live_server.url, queue_id, f"Jonottaja {n:02d}")
    aino = agent_page(new_page, "aino", "Neuvonta")
    aino.get_by_role("link", name="Neuvonta").click()
    rows = aino.locator("#chat-customers .chat-customer")
    expect(rows).to_have_count(CUSTOMERS_PAGE_SIZE)
    reads = []
    aino.on("request", lambda r: reads.append(urllib.parse.urlsplit(r.url).path))

    # One more makes a second page: the pager says so and offers it, with no request.
    Customer(live_server.url, queue_id, "Toisella sivulla")
    expect(aino.locator("#chat-customers .pager")).to_contain_text("Page 1 of 2")
    aino.locator("#chat-customers .pager").get_by_role("link", name="Next").wait_for()
    assert not [path for path in reads if path.startswith("/chat/partials/customers")]
    # The next goes on the second page too: nothing on this one changes, nothing is read.
    Customer(live_server.url, queue_id, "Myös toisella")
    expect(aino.locator(f'[data-queue-count="{queue_id}"]')).to_have_attribute("data-count",
                                                                               str(CUSTOMERS_PAGE_SIZE + 2))
    aino.wait_for_timeout(300)
    assert not [path for path in reads if path.startswith("/chat/partials/customers")]
    expect(rows).to_have_count(CUSTOMERS_PAGE_SIZE)
    expect(rows.last).to_contain_text(f"Jonottaja {CUSTOMERS_PAGE_SIZE - 1:02d}")
    aino.locator("#chat-customers .pager").get_by_role("link", name="Next").click()
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Toisella sivulla")
    expect(aino.locator("#chat-customers .pager")).to_contain_text("Page 2 of 2")
