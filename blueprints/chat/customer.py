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
from flask_babel import gettext as _

from blueprints.chat import queues, service, staffing
from blueprints.chat.forms import JoinForm, QuestionForm
from blueprints.chat.models import ChatQueue, ConversationState
from common.refusals import Refused, status_of
from common.views import query_id, render_form
from extensions import db, limiter

bp = Blueprint("chat_customer", __name__)

MESSAGE_RATE_LIMIT = "30 per minute"


def _browser_session():
    """A random name for this browser's session, the key of its own join limit."""
    return session.setdefault("chat_browser", secrets.token_urlsafe(16))


def _joined(response):
    """Only a join that succeeded counts against the limits (it answers with a redirect)."""
    return response.status_code == 302


def _my_conversation():
    """The open conversation named by the signed token in this browser's session, if any. The
    token ends with the chat: on a library PC the next person sees no transcript (a customer
    who wants one asks for it by email)."""
    conversation = service.conversation_for_token(session.get("chat_customer"))
    if conversation is not None and not conversation.is_open:
        session.pop("chat_customer", None)
        # How it ended (the state and the last system notice), nothing of what was said.
        session["chat_customer_ended"] = {"state": conversation.state.value, "notice": service.last_notice(conversation)}
        return None
    return conversation


@bp.route("/", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["CHAT_JOIN_RATE_LIMIT"], methods=["POST"], deduct_when=_joined)
@limiter.limit(lambda: current_app.config["CHAT_JOIN_SESSION_RATE_LIMIT"], key_func=_browser_session,
               methods=["POST"], deduct_when=_joined)
def index():
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
            conversation = service.join(queue, form.name.data, form.question.data)
        except Refused as refusal:
            form.queue.errors.append(str(refusal))
        else:
            session["chat_customer"] = service.customer_token(conversation)
            session.pop("chat_customer_ended", None)
            return redirect(url_for("chat_customer.index"))
    return render_form("chat/customer_join.html", form, queues=open_queues)


def _ended_context():
    ended = session.get("chat_customer_ended")
    if not isinstance(ended, dict):  # nothing ended in this session
        return {"ended": None, "notice": None}
    return {"ended": ended.get("state"), "notice": ended.get("notice")}


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
    return render_template("chat/_customer_conversation.html", conversation=conversation, **_customer_context(conversation))


@bp.route("/lines")
def lines():
    """The lines after `after` of the customer's own conversation (none once it has ended: the
    page hears that as customer-changed)."""
    conversation = _my_conversation()
    if conversation is None:
        return ""
    service.mark_read_by_customer(conversation)
    return render_template("chat/_lines.html", lines=service.lines_after(conversation, query_id("after", 0)))


@bp.route("/message", methods=["POST"])
@limiter.limit(lambda: current_app.config.get("CHAT_MESSAGE_RATE_LIMIT", MESSAGE_RATE_LIMIT))
def message():
    conversation = _my_conversation()
    if conversation is None:
        return render_template("chat/_customer_gone.html", **_ended_context())
    error, status = None, 200
    try:
        service.send_as_customer(conversation, request.form.get("body"), request.form.get("key"))
    except Refused as refusal:
        error, status = str(refusal), status_of(refusal)
    else:
        if request.headers.get("HX-Request"):
            return "", 204  # the page's script: the line reaches the page with its live event
    return render_template("chat/_customer_conversation.html", conversation=conversation, error=error,
                           draft=request.form.get("body") if error else "",
                           **_customer_context(conversation)), status


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
    session.pop("chat_customer", None)
    flash(_("You have left the chat."), "info")
    return redirect(url_for("chat_customer.index"))
