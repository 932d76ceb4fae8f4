"""Chat statistics pages: the figures on a page and as CSV (service admins: all units; chat
agents and main users: their own). The figures themselves are computed in statistics.py.
"""
import csv
import io

from flask import Response, request
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.chat import bp, canned, statistics
from blueprints.chat.forms import StatisticsForm
from blueprints.chat.models import Rating
from blueprints.chat.routes import mark_shown_lines
from common.access import Role, roles_required
from common.views import render_form


def _statistics_request():
    """The validated period and queues asked for, or the form with its errors."""
    queues = statistics.visible_queues(current_user)
    start, end = statistics.default_period()
    form = StatisticsForm(formdata=request.args, start=start, end=end)
    form.queue.choices = [("", _("All my queues"))] + [(q.id, f"{q.name} ({q.unit.name})") for q in queues]
    valid = form.validate()
    chosen = [q for q in queues if q.id == form.queue.data] if form.queue.data else queues
    return form, valid, chosen


@bp.route("/statistics", endpoint="statistics")
@roles_required(Role.CHAT_AGENT, Role.MAIN_USER)
def statistics_page():
    mark_shown_lines()  # the desk's link to this page is boosted: its request may say what the desk showed
    form, valid, queues = _statistics_request()
    if not valid:
        return render_form("chat/statistics.html", form, refused=True, figures=None)
    figures = statistics.figures(queues, form.start.data, form.end.data)
    csv_args = {"start": figures.start.isoformat(), "end": figures.end.isoformat()}
    if form.queue.data:
        csv_args["queue"] = form.queue.data
    replies = canned.uses_in([q.id for q in queues], figures.start, figures.end)
    return render_form("chat/statistics.html", form, figures=figures, bars=statistics.chart_bars(figures.days),
                       chart=statistics, csv_args=csv_args, canned_uses=replies, Rating=Rating)


@bp.route("/statistics.csv")
@roles_required(Role.CHAT_AGENT, Role.MAIN_USER)
def statistics_csv():
    form, valid, queues = _statistics_request()
    if not valid:
        message = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return message, 422, {"Content-Type": "text/plain; charset=utf-8"}
    figures = statistics.figures(queues, form.start.data, form.end.data)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["day", "queue", "unit", "chats", "median_wait_seconds", "p90_wait_seconds",
                     "median_chat_seconds", "left_before_served", "transfers_out",
                     *(f"helped_{rating.value}" for rating in Rating)])
    for r in figures.rows:
        writer.writerow([r.day.isoformat(), r.queue.name, r.queue.unit.name, r.chats, _csv_number(r.median_wait),
                         _csv_number(r.p90_wait), _csv_number(r.median_length), r.left_unserved, r.transfers_out,
                         *(r.ratings[rating] for rating in Rating)])
    filename = f"chat-statistics-{figures.start.isoformat()}-{figures.end.isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _csv_number(value):
    """Seconds as written in the CSV: whole seconds, a half where a median falls between two."""
    if value is None:
        return ""
    return int(value) if value == int(value) else round(value, 1)
