"""Video chat in real browsers: Chromium's fake camera and microphone (--use-fake-device-for-media-stream,
--use-fake-ui-for-media-stream in tests/browser/conftest.py), no STUN or TURN: host candidates only."""
import re

import pytest
from playwright.sync_api import expect

from blueprints.chat.models import ChatQueue
from common.access import Role
from extensions import db
from tests.browser.conftest import assert_accessible, confirm
from tests.browser.test_chat_desk import agent_page

# The remote picture plays: a live video track, frames decoded, time running.
REMOTE_PLAYING = """() => {
    const video = document.querySelector("[data-video-remote]");
    const stream = video && video.srcObject;
    return !!stream && stream.getVideoTracks().some(t => t.readyState === "live")
        && video.readyState >= 2 && video.currentTime > 0;
}"""
REMOTE_TIME = "() => document.querySelector('[data-video-remote]').currentTime"
REMOTE_ADVANCES = "(t) => document.querySelector('[data-video-remote]').currentTime > t"


def refuse_camera(error_name):
    """An init script that makes getUserMedia fail as a browser does (a DOMException named error_name)."""
    return ("navigator.mediaDevices.getUserMedia = () => "
            f"Promise.reject(new DOMException('refused in the test', '{error_name}'));")


@pytest.fixture
def served(app, make_unit, make_user, new_page):
    """Aino at the desk with Toni's chat open (Toni waiting), and Toni's page."""
    def make(customer_script=None, customer_setup=None):
        library = make_unit()
        make_user("aino", (Role.CHAT_AGENT, library))
        with app.app_context():
            db.session.add(ChatQueue(unit_id=library, name="Neuvonta", is_open=True, waiting_message="Odota"))
            db.session.commit()
        aino = agent_page(new_page, "aino", "Neuvonta")
        customer = new_page()
        if customer_script:
            customer.add_init_script(customer_script)
        if customer_setup:
            customer_setup(customer)
        customer.goto("/chat/customer/")
        customer.get_by_label("Your name").fill("Toni")
        customer.get_by_role("button", name="Join the queue").click()
        customer.wait_for_selector("body[data-live=connected]")
        aino.get_by_role("link", name="Neuvonta").click()
        aino.get_by_role("link", name="Toni").click()
        expect(aino).to_have_url(re.compile(r"conversation=\d+"))  # the boosted link has landed
        return aino, customer
    return make


def start_video(aino, customer):
    aino.get_by_role("button", name="Start video chat").click()  # asked in the page, then accepted
    confirm(aino)
    expect(aino.locator("[data-video-status]")).to_have_text("Waiting for the customer to accept the video chat…")
    expect(customer.locator("[data-video-status]")).to_have_text(
        "The library invites you to a video chat. Your camera and microphone will be used.")


def assert_remote_video_plays(page):
    page.wait_for_function(REMOTE_PLAYING)
    page.wait_for_function(REMOTE_ADVANCES, arg=page.evaluate(REMOTE_TIME))


def call_going(aino, customer):
    """Aino invites, Toni accepts, and each sees the other."""
    start_video(aino, customer)
    customer.get_by_role("button", name="Accept video chat").click()
    assert_remote_video_plays(customer)
    assert_remote_video_plays(aino)


def test_agent_and_customer_see_each_other_and_the_agent_ends_the_call(served):
    aino, customer = served()
    start_video(aino, customer)
    expect(aino.locator(".chat-head")).to_contain_text("Agent: Aino")  # starting video served the customer
    assert_accessible(aino)
    assert_accessible(customer)

    customer.get_by_role("button", name="Accept video chat").click()

    assert_remote_video_plays(customer)
    assert_remote_video_plays(aino)
    expect(aino.locator("[data-video-status]")).to_have_text("The video chat is on.")
    expect(customer.locator("[data-video-status]")).to_have_text("The video chat is on.")
    assert_accessible(aino)
    assert_accessible(customer)

    # The text chat goes on beside the video; the re-rendered chat does not interrupt the call.
    aino.locator("#chat-body").fill("Näkyykö kuva?")
    aino.locator("#chat-body").press("Enter")
    expect(customer.locator(".chat-line-agent")).to_contain_text("Näkyykö kuva?")
    assert_remote_video_plays(customer)
    assert_remote_video_plays(aino)
    # Moving around the desk (boosted links swap the page body) keeps the call.
    aino.get_by_role("link", name="Neuvonta").click()
    expect(aino).not_to_have_url(re.compile(r"conversation="))
    assert_remote_video_plays(aino)

    aino.get_by_role("button", name="End video chat").click()
    expect(aino.locator("[data-video-status]")).to_have_text("The video chat has ended.")
    expect(customer.locator("[data-video-status]")).to_have_text("The agent ended the video chat.")
    expect(customer.locator("[data-video-remote]")).to_be_hidden()
    assert customer.evaluate("document.querySelector('[data-video-remote]').srcObject === null")
    expect(customer.get_by_role("button", name="End video chat")).to_be_hidden()
    assert_accessible(customer)
    assert_accessible(aino)


def test_the_customer_ends_the_call(served):
    aino, customer = served()
    call_going(aino, customer)
    customer.get_by_role("button", name="End video chat").click()
    expect(customer.locator("[data-video-status]")).to_have_text("The video chat has ended.")
    expect(aino.locator("[data-video-status]")).to_have_text("The customer ended the video chat.")
    assert aino.evaluate("document.querySelector('[data-video-remote]').srcObject === null")


def test_the_customer_closing_the_page_is_told_as_such_not_as_ending_the_call(served):
    aino, customer = served()
    call_going(aino, customer)
    customer.close()
    expect(aino.locator("[data-video-status]")).to_have_text(
        "The customer's page was closed or lost its connection, so the video chat has ended.")
    assert aino.evaluate("document.querySelector('[data-video-remote]').srcObject === null")


def test_the_customer_closing_the_page_is_told_even_when_its_socket_gets_nothing_more_out(served):
    """On a busy machine the closing page's last socket message may never leave it."""
    silent = []

    def customer_socket(ws):
        server = ws.connect_to_server()
        ws.on_message(lambda message: None if silent else server.send(message))

    aino, customer = served(customer_setup=lambda page: page.route_web_socket(re.compile("/socket.io/"),
                                                                              customer_socket))
    call_going(aino, customer)
    silent.append(True)
    customer.close()
    expect(aino.locator("[data-video-status]")).to_have_text(
        "The customer's page was closed or lost its connection, so the video chat has ended.")


def test_no_second_video_chat_is_offered_while_one_runs(served):
    aino, customer = served()
    start_video(aino, customer)
    start = aino.get_by_role("button", name="Start video chat")
    expect(start).to_have_count(0)  # waiting for the customer to accept is a call already
    customer.get_by_role("button", name="Accept video chat").click()
    assert_remote_video_plays(aino)
    # A live refresh of the chat (the customer writes) brings no button back.
    customer.locator("#chat-body").fill("Kuuluuko?")
    customer.locator("#chat-body").press("Enter")
    expect(aino.locator(".chat-line-customer").last).to_contain_text("Kuuluuko?")
    expect(start).to_have_count(0)
    expect(aino.get_by_role("button", name="Release to queue")).to_be_visible()
    assert_accessible(aino)

    aino.get_by_role("button", name="End video chat").click()
    expect(aino.locator("[data-video-status]")).to_have_text("The video chat has ended.")
    expect(start).to_be_visible()  # over: a new call may be started


def test_a_declined_invitation_is_shown_to_the_agent(served):
    aino, customer = served()
    start_video(aino, customer)
    customer.get_by_role("button", name="Decline").click()
    expect(customer.locator("[data-video-status]")).to_have_text("You declined the video chat.")
    expect(aino.locator("[data-video-status]")).to_have_text("The customer declined the video chat.")
    assert_accessible(aino)
    # The text chat is still there for both.
    customer.locator("#chat-body").fill("Kirjoitan mieluummin")
    customer.locator("#chat-body").press("Enter")
    expect(aino.locator(".chat-line-customer")).to_contain_text("Kirjoitan mieluummin")


@pytest.mark.parametrize("error, customer_text, agent_text", [
    ("NotAllowedError", "Access to the camera and microphone was refused.",
     "The customer refused access to their camera and microphone."),
    ("NotFoundError", "No camera or microphone was found.", "The customer has no camera or microphone."),
])
def test_a_refused_or_missing_camera_is_explained_to_both(served, error, customer_text, agent_text):
    aino, customer = served(customer_script=refuse_camera(error))
    start_video(aino, customer)
    customer.get_by_role("button", name="Accept video chat").click()
    expect(customer.locator("[data-video-status]")).to_contain_text(customer_text)
    expect(aino.locator("[data-video-status]")).to_contain_text(agent_text)
    expect(customer.locator("[data-video-screens]")).to_be_hidden()
    assert_accessible(customer)
    assert_accessible(aino)


def test_the_agents_own_refused_camera_cancels_the_invitation(served):
    aino, customer = served()
    aino.add_init_script(refuse_camera("NotAllowedError"))
    aino.reload()
    aino.wait_for_selector("body[data-live=connected]")
    aino.get_by_role("button", name="Start video chat").click()
    confirm(aino)
    expect(aino.locator("[data-video-status]")).to_contain_text("Access to the camera and microphone was refused.")
    expect(customer.locator("[data-video-status]")).to_have_text("The video chat has ended.")
    expect(customer.get_by_role("button", name="Accept video chat")).to_be_hidden()


def test_ending_the_chat_ends_the_call_on_both_pages(served):
    aino, customer = served()
    call_going(aino, customer)
    aino.get_by_role("button", name="End chat").click()
    expect(customer.locator(".chat-closed")).to_contain_text("The chat has ended.")
    expect(customer.locator("[data-video-status]")).to_have_text("The video chat has ended.")
    expect(aino.locator("[data-video-status]")).to_have_text("The video chat has ended.")
    assert customer.evaluate("document.querySelector('[data-video-remote]').srcObject === null")
    assert aino.evaluate("document.querySelector('[data-video-own]').srcObject === null")


def test_a_queue_transfer_ends_the_call_on_both_pages(app, served):
    aino, customer = served()
    with app.app_context():
        library = db.session.scalar(db.select(ChatQueue.unit_id))
        db.session.add(ChatQueue(unit_id=library, name="Tietokoneopastus", is_open=True, waiting_message="Odota"))
        db.session.commit()
    call_going(aino, customer)
    # The next agent serves the customer in the other queue: this call cannot go with them.
    aino.get_by_role("button", name="Transfer to another queue").click()
    target = aino.get_by_label("Target queue")
    target.select_option(target.locator("option", has_text="Tietokoneopastus").get_attribute("value"))
    aino.get_by_role("button", name="Transfer", exact=True).click()
    expect(customer.locator(".chat-system").last).to_contain_text("Aino has transferred you to another queue.")
    expect(customer.locator("[data-video-status]")).to_have_text("The video chat has ended.")
    expect(aino.locator("[data-video-status]")).to_have_text("The video chat has ended.")
    assert customer.evaluate("document.querySelector('[data-video-remote]').srcObject === null")
    assert aino.evaluate("document.querySelector('[data-video-own]').srcObject === null")
