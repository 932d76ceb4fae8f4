"""Finding an earlier conversation: the search of the kept transcripts, one transcript read-only,
and emailing it. Service admins and the chat agents of a queue's unit, in queues that keep
transcripts; the rules and the audit are in transcripts.py."""
from flask import abort, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.chat import bp, transcripts
from blueprints.chat.forms import TranscriptForm, TranscriptSearchForm
from blueprints.chat.ratings import RATING_LABELS
from blueprints.chat.routes import mark_shown_lines
from common.access import Role, roles_required
from common.refusals import Refused
from common.views import render_form, render_refusal


def _search_form(queues):
    form = TranscriptSearchForm()
    form.queue.choices = [("", _("All my queues"))] + [(q.id, f"{q.name} ({q.unit.name})") for q in queues]
    return form


@bp.route("/transcripts", methods=["GET", "POST"])
@roles_required(Role.CHAT_AGENT)
def transcripts_search():
    """The search form; a search is sent by POST (what was typed stays out of the address and
    the logs), and each page of its results is a search of its own, audited."""
    mark_shown_lines()  # the desk's link to this page is boosted: its request may say what the desk showed
    queues = transcripts.searchable_queues(current_user)
    form = _search_form(queues)
    if not form.is_submitted() or not queues:
        return render_template("chat/transcripts.html", form=form, queues=queues, page=None)
    if not form.validate():
        return render_form("chat/transcripts.html", form, queues=queues, page=None)
    chosen = next((q for q in queues if q.id == form.queue.data), None)
    try:
        page = transcripts.search(current_user, chosen, form.text.data or "", form.start.data, form.end.data)
    except Refused as refusal:  # the audit record could not be written: nothing is shown
        return render_refusal("chat/transcripts.html", refusal, form, queues=queues, page=None)
    return render_template("chat/transcripts.html", form=form, queues=queues, page=page)


def _kept_or_404(conversation_id):
    """Another unit's chat, a queue that keeps nothing, a purged or open chat: all alike, missing."""
    return transcripts.kept_transcript(current_user, conversation_id) or abort(404)


def _transcript_page(conversation, form=None, status=200, **context):
    form = form or TranscriptForm(formdata=None, prefix="transcript", language=str(get_locale()))
    return render_template("chat/transcript.html", conversation=conversation, transcript_form=form,
                           rating_labels=RATING_LABELS, **context), status


@bp.route("/transcripts/<int:conversation_id>")
@roles_required(Role.CHAT_AGENT)
def transcript(conversation_id):
    """One kept transcript, read-only; each opening is audited before it is shown."""
    conversation = _kept_or_404(conversation_id)
    transcripts.record_opening(conversation)  # a busy database: the "save again" page, nothing shown
    return _transcript_page(conversation)


@bp.route("/transcripts/<int:conversation_id>/email", methods=["POST"])
@roles_required(Role.CHAT_AGENT)
def transcript_email(conversation_id):
    """Email the transcript at the customer's request, as the serving agent does."""
    conversation = _kept_or_404(conversation_id)
    form = TranscriptForm(prefix="transcript")
    if not form.validate_on_submit():
        return _transcript_page(conversation, form, 422)
    try:
        transcripts.email_kept_transcript(conversation, current_user, form.email.data.strip(), form.language.data)
    except Refused as refusal:
        return render_refusal("chat/transcript.html", refusal, conversation=conversation, transcript_form=form,
                              rating_labels=RATING_LABELS)
    return _transcript_page(conversation, sent_to=form.email.data.strip())
