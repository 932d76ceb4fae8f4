"""Canned replies (the page that keeps them, the search of the message box, counting an
insertion) and internal notes on a customer chat. Routes are thin; the rules are in
blueprints/chat/canned.py and service.py."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.chat import bp, canned, service
from blueprints.chat.forms import CannedReplyForm
from blueprints.chat.models import CannedReply, InternalConversation
from blueprints.chat.routes import _conversation_or_404, mark_shown_lines
from common.access import Role, roles_required
from common.refusals import NotAllowed, Refused
from common.views import query_id, render_form, render_refusal
from extensions import LANGUAGES, db

# ---- the page that keeps the replies ----------------------------------------------------------


def _reply_or_404(reply_id):
    reply = db.get_or_404(CannedReply, reply_id)
    if not canned.may_manage(current_user, reply):
        abort(404)  # another agent's reply, another unit's queue: as if it did not exist
    return reply


def _reply_form(reply=None):
    form = CannedReplyForm(obj=reply)
    form.owner.choices = [("", _("Only me (a personal reply)"))] + [
        (q.id, _("Queue %(queue)s (%(unit)s)", queue=q.name, unit=q.unit.name))
        for q in canned.managed_queues(current_user)
    ]
    if reply is not None and not form.is_submitted():
        form.owner.data = reply.queue_id
    return form


@bp.route("/canned")
@roles_required(Role.CHAT_AGENT)
def canned_replies():
    mark_shown_lines()
    own, by_queue = canned.replies_to_manage(current_user)
    ids = [r.id for r in own] + [r.id for _queue, replies in by_queue for r in replies]
    return render_template("chat/canned_replies.html", own=own, by_queue=by_queue, uses=canned.use_counts(ids),
                           languages=LANGUAGES)


@bp.route("/canned/new", methods=["GET", "POST"])
@bp.route("/canned/<int:reply_id>", methods=["GET", "POST"])
@roles_required(Role.CHAT_AGENT)
def canned_reply(reply_id=None):
    reply = _reply_or_404(reply_id) if reply_id else None
    form = _reply_form(reply)
    if form.validate_on_submit():
        try:
            canned.save_reply(reply, current_user, form.owner.data, form.name.data, form.texts())
        except Refused as refusal:
            return render_refusal("chat/canned_reply.html", refusal, form, reply=reply)
        flash(_("The canned reply has been saved."), "success")
        return redirect(url_for("chat.canned_replies"))
    return render_form("chat/canned_reply.html", form, reply=reply)


@bp.route("/canned/<int:reply_id>/delete", methods=["POST"])
@roles_required(Role.CHAT_AGENT)
def canned_reply_delete(reply_id):
    reply = _reply_or_404(reply_id)
    canned.delete_reply(reply, current_user)
    flash(_("The canned reply %(name)s has been deleted.", name=reply.name), "success")
    return redirect(url_for("chat.canned_replies"))


# ---- in the message box -------------------------------------------------------------------------

def _chat_context():
    """The chat a reply goes into, from the request (`conversation` or `internal`): only one the
    agent writes in (403 otherwise; another unit's chat, or others' internal chat, 404)."""
    conversation_id = query_id("conversation", values=request.values)
    internal_id = query_id("internal", values=request.values)
    if conversation_id:
        conversation = _conversation_or_404(conversation_id)
        context = canned.ChatContext(current_user, conversation=conversation)
    elif internal_id:
        chat = db.get_or_404(InternalConversation, internal_id)
        if not chat.has(current_user):
            abort(404)
        context = canned.ChatContext(current_user, internal=chat)
    else:
        abort(404)
    try:
        canned.check_may_insert(context)
    except NotAllowed:
        abort(403)
    return context


@bp.route("/canned/search")
@roles_required(Role.CHAT_AGENT)
def canned_search():
    """The options of the message box's list (static/js/chat-canned.js), each with its text filled
    in for the chat."""
    context = _chat_context()
    replies = canned.search(context, request.args.get("q"))
    options = [(reply, *canned.text_for(reply, context)) for reply in replies]
    return render_template("chat/_canned_options.html", options=options, chat_language=context.language)


@bp.route("/canned/<int:reply_id>/used", methods=["POST"])
@roles_required(Role.CHAT_AGENT)
def canned_used(reply_id):
    """The message box inserted this reply: counted for the statistics."""
    context = _chat_context()
    try:
        canned.record_use(reply_id, context)
    except NotAllowed:
        abort(403)
    return "", 204


# ---- internal notes -----------------------------------------------------------------------------

@bp.route("/conversations/<int:conversation_id>/notes", methods=["POST"])
@roles_required(Role.CHAT_AGENT)
def add_note(conversation_id):
    """An agent who may read the chat adds a staff-only note; the answer is the note form again
    (cleared, or with the refusal and the draft), the note itself comes to the lines with its
    live event."""
    mark_shown_lines()
    conversation = _conversation_or_404(conversation_id)
    body = request.form.get("note", "")
    try:
        service.add_note(conversation, current_user, body, request.form.get("key"))
    except Refused as refusal:
        return render_refusal("chat/_note_form.html", refusal, c=conversation, note_draft=body, note_open=True)
    return render_template("chat/_note_form.html", c=conversation, note_added=True, note_open=True)
