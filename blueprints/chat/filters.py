"""Template filters and globals of the chat pages, the agents' desk and the customer page alike."""
from flask_babel import gettext as _
from flask_babel import ngettext

from blueprints.chat import bp, customer, internal, service
from blueprints.chat import video as chat_video
from blueprints.chat.models import ConversationState
from common.clock import utcnow
from common.views import format_day_and_month, format_local_date


@bp.app_template_filter("chat_duration")
def chat_duration(seconds):
    """Seconds as minutes and seconds (2:05); a dash when there is nothing to show."""
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


@bp.app_template_filter("chat_day")
def chat_day(day, short=False):
    """A date the user's way: day and month under a chart bar, the whole date in tables."""
    return format_day_and_month(day) if short else format_local_date(day)


@bp.app_template_filter("chat_system")
def chat_system_notice(code, agent_name=""):
    """A system line in the reader's language, naming the agent when the line was stored with one."""
    if agent_name and code in service.SYSTEM_NOTICES_BY:
        return service.SYSTEM_NOTICES_BY[code] % {"agent": agent_name}
    return service.SYSTEM_NOTICES.get(code, code)


@bp.app_template_filter("chat_waited")
def chat_waited(since):
    """Whole minutes since a time (a customer's waiting time; static/js/chat-waits.js keeps it current)."""
    minutes = max(0, int((utcnow() - since).total_seconds() // 60))
    return ngettext("%(num)d min", "%(num)d min", minutes)


@bp.app_template_filter("chat_since")
def chat_since(moment):
    """Whole minutes since the customer's latest line, in the active list."""
    minutes = max(0, int((utcnow() - moment).total_seconds() // 60))
    return _("just now") if minutes == 0 else ngettext("%(num)d min ago", "%(num)d min ago", minutes)


@bp.app_template_filter("chat_state")
def chat_state_label(state):
    return {
        ConversationState.WAITING: _("waiting"),
        ConversationState.SERVED: _("being served"),
        ConversationState.ENDED: _("ended"),
        ConversationState.REMOVED: _("removed"),
    }[state]


@bp.app_template_filter("chat_presence")
def chat_presence_label(presence, serving=0):
    """A colleague's presence in words (the dot beside it is only decoration)."""
    if serving:
        if presence == internal.Presence.ONLINE:
            return ngettext("online, serving %(num)d customer", "online, serving %(num)d customers", serving)
        if presence == internal.Presence.AWAY:
            return ngettext("away, serving %(num)d customer", "away, serving %(num)d customers", serving)
    return {
        internal.Presence.ONLINE: _("online"),
        internal.Presence.AWAY: _("away"),
        internal.Presence.OFFLINE: _("offline"),
    }[presence]


@bp.app_template_global("chat_presence_of")
def chat_presence_of(user):
    """(presence, customers served) of one colleague, for the internal chat's heading."""
    return internal.presence_of([user.id])[user.id]


def video_settings():
    """The STUN/TURN servers for the video chat panel (none by default: a local network needs none)."""
    return {"video_ice_servers": chat_video.ice_servers()}


# The video chat panel is on both the desk and the customer page.
bp.context_processor(video_settings)
customer.bp.context_processor(video_settings)
