"""Chat routes: the agents' four-column page, queue admin.

The public customer page is in customer.py, the statistics pages in statistics_routes.py and
the template filters in filters.py. Routes are thin; the rules live in blueprints/chat/service.py.
"""
import json
from dataclasses import dataclass, field, fields

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.accounts.models import User
from blueprints.chat import bp, internal, queues, service, staffing, widget
from blueprints.chat import video as chat_video
from blueprints.chat.forms import (
    QueueForm,
    ServiceLoginForm,
    TranscriptForm,
    TransferForm,
    WaitingMessageForm,
)
from blueprints.chat.live import sent_line
from blueprints.chat.models import ChatQueue, Conversation, InternalConversation
from blueprints.chat.service import CUSTOMERS_PAGE_SIZE
from common import live
from common.access import Role, require_unit, roles_required
from common.refusals import Refused
from common.views import Page, page_of, query_id, render_form, render_refusal
from extensions import db

# ---- agents ---------------------------------------------------------------------------------

def _queue_or_404(queue_id):
    queue = db.get_or_404(ChatQueue, queue_id)
    require_unit(Role.CHAT_AGENT, queue.unit_id)
    return queue


def _conversation_or_404(conversation_id):
    conversation = db.get_or_404(Conversation, conversation_id)
    require_unit(Role.CHAT_AGENT, conversation.queue.unit_id)
    return conversation


def _internal_or_404(conversation_id):
    conversation = db.get_or_404(InternalConversation, conversation_id)
    if not internal.may_take_part(current_user, conversation):
        abort(404)  # others' chats look like missing ones
    return conversation


def mark_shown_lines():
    """A desk's request may say which chat's lines it showed as they came (static/js/chat.js:
    X-Chat-Shown, "chat:last line", "i" before an internal chat): read for the serving agent, or
    the colleague. Every route the desk's requests reach calls this first, before it reads what
    it answers with: the page sends the header once, with whichever request comes next."""
    chat_id, _, line_id = request.headers.get("X-Chat-Shown", "").partition(":")
    is_internal = chat_id.startswith("i")
    chat_id = chat_id.removeprefix("i")
    if not (chat_id.isdigit() and line_id.isdigit()) or not current_user.is_authenticated:
        return
    if live.is_id(int(chat_id)) and live.is_id(int(line_id)):
        mark_shown = internal.mark_shown if is_internal else service.mark_shown_to_agent
        mark_shown(int(chat_id), int(line_id), current_user)


@dataclass(frozen=True)
class DeskState:
    """What the desk shows, from its address (_desk_state); its fields are template variables
    of every region (as_context)."""

    queue: ChatQueue | None = None
    conversation: Conversation | None = None
    colleagues_view: bool = False  # the internal-chat colleagues in the second column
    internal_chat: InternalConversation | None = None
    state_args: dict[str, int] = field(default_factory=dict)  # the address's arguments, for the regions' URLs

    def as_context(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _desk_state() -> DeskState:
    """What the desk shows, from its address: the chosen queue and chat, or, with `colleagues`,
    the internal-chat colleagues in the second column and, with `internal`, one internal chat
    in the third; and the page of the customer list. Every region's route reads it, so a live
    refresh shows what the page showed."""
    queue = conversation = internal_chat = None
    queue_id = query_id("queue")
    conversation_id = query_id("conversation")
    internal_id = query_id("internal")
    colleagues_view = request.args.get("colleagues", type=int) == 1
    page = query_id("page", default=1)
    if queue_id:
        queue = _queue_or_404(queue_id)
    if conversation_id:
        conversation = _conversation_or_404(conversation_id)
        queue = queue or conversation.queue
    if internal_id:
        internal_chat = _internal_or_404(internal_id)
    state = (("queue", queue and queue.id), ("conversation", conversation_id),
             ("colleagues", 1 if colleagues_view else None), ("internal", internal_id),
             ("page", page if page > 1 else None))
    return DeskState(queue=queue, conversation=conversation, colleagues_view=colleagues_view,
                     internal_chat=internal_chat, state_args={k: v for k, v in state if v})


# Each region of the desk has its own small context: a live event re-fetches only the regions
# it concerns, and none of them builds the other columns.

def _queues_context():
    agent = service.agent_session(current_user)
    queues = agent.queues if agent else []
    counts = service.waiting_counts([q.id for q in queues])
    return {"agent": agent, "queues": queues, "counts": counts, "waiting_total": sum(counts.values())}


def _customers_context(state: DeskState) -> dict[str, object]:
    queue = state.queue
    return {"customers": page_of(service.customers_query(queue.id), CUSTOMERS_PAGE_SIZE) if queue else None,
            "customers_page_size": CUSTOMERS_PAGE_SIZE}


def _active_context():
    return {"served": service.served_by(current_user), "internal_chats": internal.conversations_of(current_user)}


def _chat_context():
    # The service login decides whether the chat offers to pick up a waiting customer.
    return {"transcript_form": TranscriptForm(formdata=None, prefix="transcript", language=str(get_locale())),
            "agent": service.agent_session(current_user)}


def _agent_context():
    """The whole desk: every region's context."""
    state = _desk_state()
    colleagues = internal.colleagues_of(current_user) if state.colleagues_view else []
    return {**state.as_context(), **_queues_context(), **_customers_context(state), **_active_context(),
            **_chat_context(), "colleagues": colleagues}


def _login_form():
    form = ServiceLoginForm()
    form.queues.choices = [(q.id, f"{q.name} ({q.unit.name})") for q in service.queues_of_agent(current_user)]
    return form


@bp.route("/")
@roles_required(Role.CHAT_AGENT)
def index():
    mark_shown_lines()
    context = _agent_context()
    if context["conversation"] is not None:
        service.mark_read_by_agent(context["conversation"], current_user)
    if context["internal_chat"] is not None:
        internal.mark_read(context["internal_chat"], current_user)
    return render_template("chat/index.html", login_form=_login_form(), desk_focus=_desk_focus(context), **context)


def _desk_focus(context):
    """Where the agent works next on the page just opened: the queues after logging in to
    customer service, the message box of my chat or of a colleague's, the chat of a customer I
    do not serve, the colleagues, or the queue's customers (the focus table of the README)."""
    if context["internal_chat"] is not None:
        return "message"
    conversation = context["conversation"]
    if conversation is not None:
        return "message" if service.may_write(current_user, conversation) else "chat"
    if context["colleagues_view"]:
        return "colleagues"
    if context["queue"] is not None:
        return "customers"
    return "queues" if request.args.get("focus") == "queues" else None


@bp.route("/service/login", methods=["POST"])
@roles_required(Role.CHAT_AGENT)
def service_login():
    mark_shown_lines()
    form = _login_form()
    if form.validate_on_submit():
        try:
            queues.log_in_to_service(current_user, form.queues.data, form.display_name.data)
        except Refused as refusal:
            # Every refusal shows in the login form (an `error` would show in the chat column).
            return render_refusal("chat/index.html", refusal, form, field="queues", login_form=form,
                                  **_agent_context())
        return redirect(url_for("chat.index", focus="queues"))
    return render_form("chat/index.html", form, login_form=form, **_agent_context())


@bp.route("/service/logout", methods=["POST"])
@roles_required(Role.CHAT_AGENT)
def service_logout():
    """Log out of customer service; the last agent of a queue where customers wait is warned
    first and logs out only with "Log out anyway"."""
    mark_shown_lines()
    warning = staffing.queues_left_unstaffed(current_user)
    if warning and request.form.get("confirm") != "yes":
        return render_template("chat/index.html", login_form=_login_form(), logout_warning=warning, **_agent_context())
    queues.log_out_of_service(current_user)
    return redirect(url_for("chat.index"))


@bp.route("/partials/queues")
@roles_required(Role.CHAT_AGENT)
def queue_list():
    mark_shown_lines()
    return render_template("chat/_queues.html", **_desk_state().as_context(), **_queues_context())


@bp.route("/partials/customers")
@roles_required(Role.CHAT_AGENT)
def customer_list():
    mark_shown_lines()
    state = _desk_state()
    return render_template("chat/_customers.html", **state.as_context(), **_customers_context(state))


@bp.route("/partials/customers/pager")
@roles_required(Role.CHAT_AGENT)
def customer_pager():
    """The pager of the queue's list alone, as a live region reads it (after a reconnect); a join
    brings its page count in the event instead."""
    mark_shown_lines()
    queue = _desk_state().queue or abort(404)
    customers = Page([], query_id("page", default=1), service.listed_count(queue.id), CUSTOMERS_PAGE_SIZE)
    return render_template("chat/_customers_pager.html", customers=customers)


@bp.route("/partials/chat")
@roles_required(Role.CHAT_AGENT)
def chat_view():
    mark_shown_lines()
    state = _desk_state()
    if state.conversation is not None:
        service.mark_read_by_agent(state.conversation, current_user)
    return render_template("chat/_chat.html", **state.as_context(), **_chat_context())


@bp.route("/partials/conversations/<int:conversation_id>/lines")
@roles_required(Role.CHAT_AGENT)
def chat_lines(conversation_id):
    """The lines after `after` of the chat in view: a new line costs its own row, not the chat."""
    mark_shown_lines()
    conversation = _conversation_or_404(conversation_id)
    service.mark_read_by_agent(conversation, current_user)
    return render_template("chat/_lines.html", lines=service.lines_after(conversation, query_id("after", 0)))


@bp.route("/partials/active")
@roles_required(Role.CHAT_AGENT)
def active_list():
    mark_shown_lines()
    return render_template("chat/_active.html", **_desk_state().as_context(), **_active_context())


def _answer_chat(conversation, refusal=None, draft="", **context):
    """Re-render the chat column after an action as it stands now, with the refusal if there was
    one (render_refusal: its message above the chat, its status)."""
    context = {**_desk_state().as_context(), **_chat_context(), "conversation": conversation,
               "queue": conversation.queue, "draft": draft, **context}
    if refusal is not None:
        return render_refusal("chat/_chat.html", refusal, **context)
    return render_template("chat/_chat.html", **context)


# Where the agent works next after each action on a chat (the focus table of the README): the
# answer names a [data-desk-focus] element of the desk, and static/js/desk-keys.js moves the
# focus there once the answer is in place. The message box after starting a chat (text or
# video: the text chat goes on beside the call); the queue's customers once the customer is no
# longer mine to serve. A refusal moves nothing: its message is read where the agent was.
FOCUS_AFTER = {"claim": "message", "video": "message", "release": "customers", "remove": "customers",
               "end": "customers", "transfer": "customers"}


def _focus_after(action):
    return {"HX-Trigger-After-Settle": json.dumps({"desk-focus": FOCUS_AFTER[action]})}


def _act(conversation_id, action, done):
    """Do `action` (the route `done`); the answer shows the chat, and moves the focus where the
    agent works next."""
    mark_shown_lines()
    conversation = _conversation_or_404(conversation_id)
    try:
        action(conversation)
    except Refused as refusal:
        return _answer_chat(conversation, refusal)
    return _answer_chat(conversation), _focus_after(done)


@bp.route("/conversations/<int:conversation_id>/claim", methods=["POST"])
@roles_required(Role.CHAT_AGENT)
def claim(conversation_id):
    return _act(conversation_id, lambda c: service.claim(c.id, current_user), "claim")


@bp.route("/conversations/<int:conversation_id>/video", methods=["POST"])
@roles_required(Role.CHAT_AGENT)
def video(conversation_id):
    """Start a video chat (a waiting customer is claimed first). The page's chat-video.js learns
    the new call from a response header and waits for the customer to accept."""
    mark_shown_lines()
    conversation = _conversation_or_404(conversation_id)
    try:
        call = chat_video.start(conversation, current_user)
    except Refused as refusal:
        return _answer_chat(conversation, refusal)
    invited = {"conversation": conversation.id, "call": call, "customer": conversation.customer_name}
    return _answer_chat(conversation), {"X-Chat-Video-Call": json.dumps(invited), **_focus_after("video")}


@bp.route("/conversations/<int:conversation_id>/release", methods=["POST"])
@roles_required(Role.CHAT_AGENT)
def release(conversation_id):
    return _act(conversation_id, lambda c: service.release(c, current_user), "release")


@bp.route("/conversations/<int:conversation_id>/remove", methods=["POST"])
@roles_required(Role.CHAT_AGENT)
def remove(conversation_id):
    return _act(conversation_id, lambda c: service.remove(c, current_user), "remove")


@bp.route("/conversations/<int:conversation_id>/end", methods=["POST"])
@roles_required(Role.CHAT_AGENT)
def end(conversation_id):
    return _act(conversation_id, lambda c: service.end(c, current_user), "end")


@bp.route("/conversations/<int:conversation_id>/messages", methods=["POST"])
@roles_required(Role.CHAT_AGENT)
def send(conversation_id):
    mark_shown_lines()
    conversation = _conversation_or_404(conversation_id)
    if not service.may_write(current_user, conversation):
        abort(403)  # a reading colleague cannot write, whatever the page shows
    try:
        line = service.send_as_agent(conversation, current_user, request.form.get("body"), request.form.get("key"))
    except Refused as refusal:
        return _answer_chat(conversation, refusal, draft=request.form.get("body", ""))
    if request.headers.get("HX-Request"):
        return sent_line(line)
    return _answer_chat(conversation)


@bp.route("/conversations/<int:conversation_id>/transcript", methods=["POST"])
@roles_required(Role.CHAT_AGENT)
def email_transcript(conversation_id):
    """The agent who serves (or served) the customer emails the transcript at their request."""
    mark_shown_lines()
    conversation = _conversation_or_404(conversation_id)
    if not service.may_email_transcript(current_user, conversation):
        abort(403)
    form = TranscriptForm(prefix="transcript")
    # The answer replaces the form (the live refreshes keep it as typed).
    if not form.validate_on_submit():
        return _answer_chat(conversation, transcript_answer=True, transcript_form=form), 422 if form.errors else 200
    try:
        # The chat gets a line saying so: the agent's confirmation, kept across live refreshes.
        service.email_transcript(conversation, current_user, form.email.data.strip(), form.language.data)
    except Refused as refusal:
        # The form as it was sent, open (a busy database: "save again").
        return _answer_chat(conversation, refusal, transcript_answer=True, transcript_form=form)
    return _answer_chat(conversation, transcript_answer=True)


def _transfer_form(conversation):
    form = TransferForm(prefix="transfer")
    form.target.choices = [("", _("Choose a queue"))] + [
        (q.id, f"{q.name} ({q.unit.name})" + ("" if q.is_open else f" – {_('closed')}"))
        for q in service.transfer_targets(current_user, conversation)
    ]
    return form


@bp.route("/conversations/<int:conversation_id>/transfer")
@roles_required(Role.CHAT_AGENT)
def transfer_form(conversation_id):
    """The transfer control: target queue and note. It opens in a box the live refreshes of the
    chat column keep (hx-preserve), so a half-written note survives other customers' messages."""
    mark_shown_lines()
    conversation = _conversation_or_404(conversation_id)
    form = _transfer_form(conversation)
    try:
        service.check_may_transfer(current_user, conversation)
    except Refused as refusal:
        return render_refusal("chat/_transfer.html", refusal, form, c=conversation)
    return render_template("chat/_transfer.html", c=conversation, form=form)


@bp.route("/conversations/<int:conversation_id>/transfer", methods=["POST"])
@roles_required(Role.CHAT_AGENT)
def transfer(conversation_id):
    mark_shown_lines()
    conversation = _conversation_or_404(conversation_id)
    form = _transfer_form(conversation)
    try:
        service.check_may_transfer(current_user, conversation)  # a colleague's chat is refused before any field
        if not form.validate_on_submit():
            return render_form("chat/_transfer.html", form, c=conversation)
        service.transfer(conversation, form.target.data, form.note.data, current_user)
    except Refused as refusal:
        return render_refusal("chat/_transfer.html", refusal, form, c=conversation)
    # Done: the whole chat column shows the customer in the new queue, the box goes with it.
    return _answer_chat(conversation), {"HX-Retarget": "#chat-view", "HX-Reswap": "morph:innerHTML",
                                        **_focus_after("transfer")}


@bp.route("/queues/<int:queue_id>/settings", methods=["GET", "POST"])
@roles_required(Role.CHAT_AGENT)
def queue_settings(queue_id):
    mark_shown_lines()
    queue = _queue_or_404(queue_id)
    form = WaitingMessageForm(obj=queue)
    saved = False
    if form.validate_on_submit():
        try:
            queues.change_waiting_message(queue, form.waiting_message.data, current_user)
        except Refused as refusal:
            return render_refusal("chat/_settings.html", refusal, form, queue=queue,
                                  agents=queues.active_agents(queue.id))
        saved = True
    return render_form("chat/_settings.html", form, queue=queue, saved=saved, agents=queues.active_agents(queue.id))


# ---- internal chat between colleagues -------------------------------------------------------------

@bp.route("/partials/colleagues")
@roles_required(Role.CHAT_AGENT)
def colleague_list():
    mark_shown_lines()
    return render_template("chat/_colleagues.html", **_desk_state().as_context(),
                           colleagues=internal.colleagues_of(current_user))


@bp.route("/colleagues/<int:user_id>/chat", methods=["POST"])
@roles_required(Role.CHAT_AGENT)
def internal_start(user_id):
    """Pressing a colleague's name opens our chat (the same one every time)."""
    mark_shown_lines()
    conversation = internal.start_chat(current_user, db.session.get(User, user_id))
    return redirect(url_for("chat.index", colleagues=1, internal=conversation.id))


@bp.route("/partials/internal/<int:conversation_id>")
@roles_required(Role.CHAT_AGENT)
def internal_chat(conversation_id):
    mark_shown_lines()
    conversation = _internal_or_404(conversation_id)
    internal.mark_read(conversation, current_user)
    return render_template("chat/_internal_chat.html", internal_chat=conversation)


@bp.route("/partials/internal/<int:conversation_id>/lines")
@roles_required(Role.CHAT_AGENT)
def internal_lines(conversation_id):
    """The lines after `after` of the internal chat in view: a new line costs its own row."""
    mark_shown_lines()
    conversation = _internal_or_404(conversation_id)
    internal.mark_read(conversation, current_user)
    return render_template("chat/_internal_lines.html", lines=internal.lines_after(conversation, query_id("after", 0)))


@bp.route("/internal/<int:conversation_id>/messages", methods=["POST"])
@roles_required(Role.CHAT_AGENT)
def internal_send(conversation_id):
    mark_shown_lines()
    conversation = _internal_or_404(conversation_id)
    try:
        internal.send(conversation, current_user, request.form.get("body"), request.form.get("key"))
    except Refused as refusal:
        return render_refusal("chat/_internal_send.html", refusal, internal_chat=conversation,
                              draft=request.form.get("body", ""))
    return render_template("chat/_internal_send.html", internal_chat=conversation)


# ---- queue admin (service admins) ---------------------------------------------------------------

@bp.route("/admin/queues")
@roles_required(Role.SERVICE_ADMIN)
def admin_queues():
    mark_shown_lines()
    return render_template("chat/admin_queues.html", queues=queues.all_queues())


@bp.route("/admin/queues/new", methods=["GET", "POST"])
@bp.route("/admin/queues/<int:queue_id>", methods=["GET", "POST"])
@roles_required(Role.SERVICE_ADMIN)
def admin_queue(queue_id=None):
    queue = db.get_or_404(ChatQueue, queue_id) if queue_id else None
    form = QueueForm(obj=queue)
    if queue and not form.is_submitted():
        form.unit.data = queue.unit_id
        form.widget_language.data = queue.widget_language or current_app.config["BABEL_DEFAULT_LOCALE"]
    form.unit.choices = [(u.id, u.name) for u in queues.queue_units()]
    if form.validate_on_submit():
        try:
            queues.save_queue(queue, form.name.data.strip(), form.unit.data, form.is_open.data,
                              form.waiting_message.data, keep_days=form.keep_days.data,
                              anonymise_after_days=form.anonymise_after_days.data,
                              contact_email=form.contact_email.data, asks_rating=form.asks_rating.data,
                              instructions_url=form.instructions_url.data, embed_origins=form.embed_origins.data,
                              widget_language=form.widget_language.data)
        except Refused as refusal:
            return render_refusal("chat/admin_queue.html", refusal, form, queue=queue,
                                  snippet=queue and widget.snippet(queue))
        flash(_("The queue has been saved."), "success")
        return redirect(url_for("chat.admin_queues"))
    return render_form("chat/admin_queue.html", form, queue=queue, snippet=queue and widget.snippet(queue))
