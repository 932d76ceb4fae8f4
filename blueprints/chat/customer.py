"""The chat's public customer page (/chat/customer/): no staff login; a browser reaches only the
conversation named by the signed token kept in its own session.

A blueprint of its own: another audience and another way of telling who is asking than the
agents' desk in routes.py. Routes are thin; the rules live in blueprints/chat/service.py.
"""
import secrets

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from limits import parse as parse_limit

from blueprints.chat import queues, ratings, service, staffing, video, widget
from blueprints.chat.forms import JoinForm, QuestionForm, RatingForm
from blueprints.chat.live import sent_line
from blueprints.chat.models import ChatQueue, Conversation, ConversationState
from common import limits, security
from common.refusals import NotAllowed, Refused, status_of
from common.views import query_id, render_form, render_refusal
from extensions import LANGUAGES, db, limiter

bp = Blueprint("chat_customer", __name__)

def _browser_session():
    """A random name for this browser's session, the key of its own join limit."""
    return session.setdefault("chat_browser", secrets.token_urlsafe(16))


def _my_conversation():
    """The open conversation named by the signed token in this browser's session, if any. The
    token ends with the chat: on a library PC the next person sees no transcript (a customer
    who wants one asks for it by email)."""
    conversation = service.conversation_for_token(session.get("chat_customer"))
    if conversation is not None and not conversation.is_open:
        session.pop("chat_customer", None)
        # How it ended (the state and the last system notice), nothing of what was said.
        session["chat_customer_ended"] = {"state": conversation.state.value,
                                          "notice": service.last_notice(conversation)}
        _offer_rating(conversation)
        return None
    return conversation


def _join_limits():
    """A join counts against the address (a library PC room shares one) and this browser session."""
    config = current_app.config
    return ((parse_limit(config["CHAT_JOIN_RATE_LIMIT"]), "chat-join", get_remote_address()),
            (parse_limit(config["CHAT_JOIN_SESSION_RATE_LIMIT"]), "chat-join-session", _browser_session()))


# The customer's rating of an ended chat (ratings.py): the browser keeps the signed token of
# that conversation, and only a browser holding it may answer.
RATING_KEY = "chat_customer_rating"


def _offer_rating(conversation: Conversation) -> None:
    if ratings.may_rate(conversation):
        session[RATING_KEY] = service.customer_token(conversation)


def _rating_conversation() -> Conversation | None:
    """The ended conversation this browser may still rate, if any."""
    conversation = service.conversation_for_token(session.get(RATING_KEY))
    if conversation is None or not ratings.may_rate(conversation):
        session.pop(RATING_KEY, None)
        return None
    return conversation


def _rating_context(form: RatingForm | None = None) -> dict[str, object]:
    """The rating's part of a page: its form while this browser may answer, or the thanks."""
    ended = session.get("chat_customer_ended")
    rated = isinstance(ended, dict) and bool(ended.get("rated"))
    if form is None and not rated and _rating_conversation() is not None:
        form = RatingForm(formdata=None)
    return {"rating_form": form, "rated": rated and form is None}


@bp.route("/", methods=["GET", "POST"])
def index():
    _remember_embedding()
    conversation = _my_conversation()
    if conversation is not None and conversation.is_open:
        return render_template("chat/customer.html", conversation=conversation, **_customer_context(conversation))
    form = JoinForm()
    open_queues = queues.open_queues()
    form.queue.choices = [(q.id, q.name) for q in open_queues]
    if not form.is_submitted() and request.args.get("queue", type=int):
        form.queue.data = request.args.get("queue", type=int)  # a link to one queue (the Celia service's)
    if form.validate_on_submit():
        queue = db.session.get(ChatQueue, form.queue.data)
        try:
            # Only a join that is done counts (not a form sent back with an error), and the limits
            # hold however many joins come at once (common/limits.py).
            with limits.counted_if_done(*_join_limits()):
                conversation = service.join(queue, form.name.data, form.question.data, language=str(get_locale()))
        except Refused as refusal:
            return render_refusal("chat/customer_join.html", refusal, form, queues=open_queues)
        session["chat_customer"] = service.customer_token(conversation)
        session.pop("chat_customer_ended", None)
        session.pop(RATING_KEY, None)  # a new chat: the question about the last one is gone
        return redirect(url_for("chat_customer.index"))
    return render_form("chat/customer_join.html", form, queues=open_queues, **_rating_context())


def _remember_embedding():
    """The page opened in the panel of a website's chat button (`?embed=1&queue=N&lang=xx`): the
    queue whose listed websites may frame this browser's chat pages from now on (the join, the
    chat after it, the page after leaving), and the website's language."""
    if not request.args.get("embed"):
        return
    queue_id = request.args.get("queue", type=int)
    if queue_id and db.session.get(ChatQueue, queue_id) is not None:
        session["chat_embed_queue"] = queue_id
    if request.args.get("lang") in LANGUAGES:
        session["language"] = request.args["lang"]


@bp.after_request
def allow_framing(response):
    """Pages of a browser that came through a chat button may be framed by the websites listed
    for that queue; any other page by none (common/security.py)."""
    queue_id = session.get("chat_embed_queue")
    if queue_id and response.mimetype == "text/html" and not request.headers.get("HX-Request"):
        security.allow_framing_by(response, widget.frame_ancestors(db.session.get(ChatQueue, queue_id)))
    return response


def _ended_context():
    ended = session.get("chat_customer_ended")
    if not isinstance(ended, dict):  # nothing ended in this session
        return {"ended": None, "notice": None, **_rating_context()}
    return {"ended": ended.get("state"), "notice": ended.get("notice"), **_rating_context()}


def _customer_context(conversation, question_form=None):
    # Nobody serves the queue: the waiting customer is told so, and may leave the question by
    # email when the queue has a contact address.
    unstaffed = conversation.state == ConversationState.WAITING and not staffing.is_staffed(conversation.queue)
    if question_form is None and unstaffed and conversation.queue.contact_email:
        question_form = QuestionForm(formdata=None)
    return {
        "ahead": service.ahead_of(conversation),
        "token": session.get("chat_customer"),
        "unstaffed": unstaffed,
        "question_form": question_form,
    }


@bp.route("/conversation", endpoint="conversation")
def conversation_partial():
    """The customer's own conversation as a partial (re-fetched on every live event)."""
    conversation = _my_conversation()
    if conversation is None:
        return render_template("chat/_customer_gone.html", **_ended_context())
    service.mark_read_by_customer(conversation)
    return render_template("chat/_customer_conversation.html", conversation=conversation,
                           **_customer_context(conversation))


@bp.route("/lines")
def lines():
    """The lines after `after` of the customer's own conversation (none once it has ended: the
    page hears that as customer-changed)."""
    conversation = _my_conversation()
    if conversation is None:
        return ""
    service.mark_read_by_customer(conversation)
    lines = service.lines_after(conversation, query_id("after", 0), for_customer=True)  # no staff notes
    return render_template("chat/_lines.html", lines=lines)


@bp.route("/message", methods=["POST"])
@limiter.limit(lambda: current_app.config["CHAT_MESSAGE_ADDRESS_RATE_LIMIT"])  # against floods only
def message():
    """A customer's line. Limited per conversation (CHAT_MESSAGE_RATE_LIMIT), so that the
    customers of one library PC room, who share an address, do not use up each other's lines;
    the address has only a generous ceiling (CHAT_MESSAGE_ADDRESS_RATE_LIMIT)."""
    conversation = _my_conversation()
    if conversation is None:
        return render_template("chat/_customer_gone.html", **_ended_context())
    if not limits.within(parse_limit(current_app.config["CHAT_MESSAGE_RATE_LIMIT"]), "chat-message",
                         str(conversation.id)):
        return render_template("chat/_customer_conversation.html", conversation=conversation,
                               draft=request.form.get("body"),
                               error=_("You are sending lines faster than the chat takes them. "
                                       "Wait a moment and send again."),
                               **_customer_context(conversation)), 429
    try:
        line = service.send_as_customer(conversation, request.form.get("body"), request.form.get("key"))
    except Refused as refusal:
        return render_refusal("chat/_customer_conversation.html", refusal, conversation=conversation,
                              draft=request.form.get("body"), **_customer_context(conversation))
    if request.headers.get("HX-Request"):
        return sent_line(line)
    return render_template("chat/_customer_conversation.html", conversation=conversation, draft="",
                           **_customer_context(conversation))


@bp.route("/question", methods=["POST"])
def question():
    """A waiting customer of an unstaffed queue leaves the question by email instead."""
    conversation = _my_conversation()
    if conversation is None:
        return render_template("chat/_customer_gone.html", **_ended_context())
    if not staffing.may_leave_question(conversation):
        # An agent logged in meanwhile, or the visit ended: the page shows the chat as it is now.
        return render_template("chat/_customer_conversation.html", conversation=conversation,
                               **_customer_context(conversation)), 409
    form = QuestionForm()
    if form.validate_on_submit():
        staffing.leave_question_by_email(conversation, form.email.data.strip(), form.question.data)
        return render_template("chat/_customer_conversation.html", conversation=conversation,
                               **_customer_context(conversation))
    return render_template("chat/_customer_conversation.html", conversation=conversation,
                           **_customer_context(conversation, question_form=form)), 422


@bp.route("/leave", methods=["POST"])
def leave():
    conversation = _my_conversation()
    if conversation is not None:
        service.leave(conversation)
        _offer_rating(conversation)
    session.pop("chat_customer", None)
    flash(_("You have left the chat."), "info")
    return redirect(url_for("chat_customer.index"))


@bp.route("/video/closed", methods=["POST"])
def video_page_closed():
    """The customer's page went (closed, reloaded, left) during a video call. Sent as a beacon,
    which the browser delivers after the page is gone; a socket message sent then may never get
    out (on a busy machine it did not), and the agent read that the video connection failed."""
    signal = {"conversation": request.form.get("conversation", type=int), "call": request.form.get("call"),
              "kind": "end", "reason": "closed"}
    try:
        video.signal_from_customer(service.conversation_for_token(session.get("chat_customer")), signal)
    except video.SignalRefused:
        return "", 409
    return "", 204


@bp.route("/rating", methods=["POST"])
def rating():
    """The customer answers "Did you get the help you needed?" about their chat that ended, once."""
    conversation = service.conversation_for_token(session.get(RATING_KEY))
    if conversation is None:  # this browser has no ended chat to answer about
        return _rating_answer(None, 409, rating_error=_("There is no chat to answer about."))
    form = RatingForm()
    try:
        ratings.check_may_rate(conversation)
        if not form.validate_on_submit():
            return _rating_answer(form, 422)
        ratings.rate(conversation, form.answer.data, form.comment.data)
    except Refused as refusal:  # answered in another tab, or its time ran out
        session.pop(RATING_KEY, None)
        message = _("There is no chat to answer about.") if isinstance(refusal, NotAllowed) else refusal.message
        return _rating_answer(None, 409 if isinstance(refusal, NotAllowed) else status_of(refusal),
                              rating_error=message)
    session.pop(RATING_KEY, None)
    ended = session.get("chat_customer_ended")
    session["chat_customer_ended"] = {**(ended if isinstance(ended, dict) else {}), "rated": True}
    if not request.headers.get("HX-Request"):
        flash(_("Thank you for your answer."), "success")
        return redirect(url_for("chat_customer.index"))
    return _rating_answer(None, 200, rated=True)


def _rating_answer(form, status, **context):
    """The rating's part after an answer (htmx), or the page it is on (a plain form post)."""
    if request.headers.get("HX-Request"):
        return render_template("chat/_customer_rating.html", rating_form=form, **context), status
    open_queues = queues.open_queues()
    join_form = JoinForm(formdata=None)
    join_form.queue.choices = [(q.id, q.name) for q in open_queues]
    return render_template("chat/customer_join.html", form=join_form, queues=open_queues, rating_form=form,
                           **context), status
