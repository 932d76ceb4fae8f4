"""Guide checklist pages: thin routes over blueprints/guide/service.py."""
import csv
import io
from datetime import date, timedelta

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from blueprints.guide import bp, chart, service
from blueprints.guide.forms import EndSessionForm, ItemForm, LimitForm, StartSessionForm
from blueprints.guide.models import EMPHASIS, ItemGroup
from common.access import Role, roles_required
from common.clock import library_zone, local_today
from common.refusals import Refused
from common.views import format_local_date, query_id, render_form, render_refusal


def _language():
    return str(get_locale() or "fi")


def _guide_units():
    return current_user.units(Role.GUIDE)


def _start_form():
    form = StartSessionForm()
    form.unit.choices = [(u.id, u.name) for u in _guide_units()]
    return form


def _today_context():
    units = _guide_units()
    return {
        "mine": service.my_sessions_today(current_user, library_zone()),
        "colleagues": service.colleagues_in_progress(current_user, [u.id for u in units]),
    }


@bp.route("/", methods=["GET", "POST"])
@roles_required(Role.GUIDE)
def index():
    form = _start_form()
    if form.validate_on_submit():
        try:
            session = service.start_session(
                current_user, form.unit.data, form.topics.data, form.device.data, form.customer_language.data
            )
        except Refused as refusal:
            return render_refusal("guide/index.html", refusal, form, **_today_context())
        return redirect(url_for("guide.session_view", session_id=session.id))
    return render_form("guide/index.html", form, **_today_context())


@bp.route("/today")
@roles_required(Role.GUIDE)
def today():
    return render_template("guide/_today.html", **_today_context())


def _session_context(session, limit_form=None):
    version = session.version
    raised = service.limits_for_topics(version, session.topic_codes)
    if limit_form is None:
        limit_form = LimitForm(formdata=None)
    limit_form.limit.choices = [(i.id, service.item_label(i, _language())) for i in version.group(ItemGroup.NEVER)]
    if raised and not limit_form.limit.data:
        limit_form.limit.data = raised[0].id
    return {
        "s": session,
        "version": version,
        "raised": raised,
        "ticked": session.ticked_item_ids,
        "language": _language(),
        "limit_form": limit_form,
        "ItemGroup": ItemGroup,
        "topics": service.TOPICS,
        "devices": service.DEVICES,
        "customer_languages": service.CUSTOMER_LANGUAGES,
        "referrals": service.REFERRAL_LABELS,
        "outcomes": service.OUTCOME_LABELS,
    }


@bp.route("/sessions/<int:session_id>")
@roles_required(Role.GUIDE)
def session_view(session_id):
    session = service.get_session(current_user, session_id)
    return render_template("guide/session.html", **_session_context(session))


@bp.route("/sessions/<int:session_id>/checklist")
@roles_required(Role.GUIDE)
def session_checklist(session_id):
    session = service.get_session(current_user, session_id)
    return render_template("guide/_session_checklist.html", **_session_context(session))


@bp.route("/sessions/<int:session_id>/items/<int:item_id>", methods=["POST"])
@roles_required(Role.GUIDE)
def tick(session_id, item_id):
    session = service.get_session(current_user, session_id)
    try:
        service.set_tick(current_user, session, item_id, request.form.get("ticked") == "1")
    except Refused as refusal:
        return render_refusal("guide/_session_checklist.html", refusal, **_session_context(session))
    return render_template("guide/_session_checklist.html", **_session_context(session))


@bp.route("/sessions/<int:session_id>/never-1-exception", methods=["POST"])
@roles_required(Role.GUIDE)
def record_exception(session_id):
    session = service.get_session(current_user, session_id)
    try:
        service.record_never_1_exception(current_user, session, request.form.get("applied") == "1")
    except Refused as refusal:
        return render_refusal("guide/_session_checklist.html", refusal, **_session_context(session))
    return render_template("guide/_session_checklist.html", **_session_context(session))


@bp.route("/sessions/<int:session_id>/limits", methods=["POST"])
@roles_required(Role.GUIDE)
def record_limit(session_id):
    session = service.get_session(current_user, session_id)
    form = LimitForm()
    _session_context(session, form)  # fills the choices
    if not form.validate_on_submit():
        return render_template("guide/_session_checklist.html", **_session_context(session, form)), 422
    try:
        service.record_limit(current_user, session, form.limit.data, form.referred_to.data)
    except Refused as refusal:
        # The form is the partial's limit_form; the message at its field, or above the checklist.
        return render_refusal("guide/_session_checklist.html", refusal, form, **_session_context(session, form))
    return render_template("guide/_session_checklist.html", **_session_context(session))


@bp.route("/sessions/<int:session_id>/end", methods=["GET", "POST"])
@roles_required(Role.GUIDE)
def end_session(session_id):
    session = service.get_session(current_user, session_id)
    if not session.in_progress:
        flash(_("The session has already ended."), "error")
        return redirect(url_for("guide.session_view", session_id=session.id)), 303
    form = EndSessionForm()
    if request.method == "GET":
        form.duration_minutes.data = service.measured_minutes(session)
    if form.validate_on_submit():
        try:
            service.end_session(current_user, session, form.outcome.data, form.duration_minutes.data, form.note.data)
        except Refused as refusal:
            return render_refusal("guide/end.html", refusal, form, s=session, topics=service.TOPICS)
        flash(_("Session ended."), "success")
        return redirect(url_for("guide.index"))
    return render_form("guide/end.html", form, s=session, topics=service.TOPICS)


# --- the checklist itself ------------------------------------------------------------------


@bp.route("/checklist/print")
@roles_required(Role.GUIDE)
def print_checklist():
    number = query_id("version")
    if number:
        version = service.version_numbered(number)
        if version is None:
            abort(404)
    else:
        version = service.ensure_first_version()
    return render_template("guide/print.html", version=version, language=_language(), ItemGroup=ItemGroup)


def _admin_checklist_context():
    return {
        "version": service.ensure_first_version(current_user),
        "versions": service.recent_versions(),
        "language": _language(),
        "ItemGroup": ItemGroup,
        "group_labels": service.GROUP_LABELS,
    }


@bp.route("/admin/checklist")
@roles_required(Role.SERVICE_ADMIN)
def admin_checklist():
    return render_template("guide/admin_checklist.html", **_admin_checklist_context())


@bp.route("/admin/checklist/items/new", methods=["GET", "POST"])
@bp.route("/admin/checklist/items/<int:item_id>", methods=["GET", "POST"])
@roles_required(Role.SERVICE_ADMIN)
def admin_item(item_id=None):
    version = service.ensure_first_version(current_user)
    item = None
    if item_id is not None:
        item = service.item_of_version(version, item_id)
        if item is None:
            abort(404)
    form = ItemForm(obj=item)
    if item is not None:
        form.group.data = item.group.value
    if form.validate_on_submit():
        try:
            if item is None:
                new = service.add_item(current_user, form.group.data, form.texts(), form.instead())
            else:
                new = service.edit_item(current_user, item.id, form.texts(), form.instead())
        except Refused as refusal:
            return render_refusal("guide/admin_item.html", refusal, form, item=item)
        flash(_("Saved as checklist version %(number)d.", number=new.number), "success")
        return redirect(url_for("guide.admin_checklist"))
    return render_form("guide/admin_item.html", form, item=item)


@bp.route("/admin/checklist/items/<int:item_id>/move", methods=["POST"])
@roles_required(Role.SERVICE_ADMIN)
def admin_move_item(item_id):
    return _admin_change(lambda: service.move_item(current_user, item_id, request.form.get("direction")))


@bp.route("/admin/checklist/items/<int:item_id>/retire", methods=["POST"])
@roles_required(Role.SERVICE_ADMIN)
def admin_retire_item(item_id):
    return _admin_change(lambda: service.retire_item(current_user, item_id))


def _admin_change(change):
    """A move or a retirement: saved, back to the checklist (303); refused, the checklist as it
    stands now with the message above it."""
    try:
        new = change()
    except Refused as refusal:
        return render_refusal("guide/admin_checklist.html", refusal, **_admin_checklist_context())
    flash(_("Saved as checklist version %(number)d.", number=new.number), "success")
    return redirect(url_for("guide.admin_checklist")), 303


# --- statistics ----------------------------------------------------------------------------


def _statistics_request():
    """The units and the period asked for; a guide sees their own units, a service admin all."""
    units = _guide_units()
    allowed = {u.id for u in units}
    unit_id = query_id("unit")
    if unit_id:
        if unit_id not in allowed:
            abort(404)
        unit_ids = [unit_id]
    else:
        unit_ids = sorted(allowed)
    today = local_today()
    errors = {}
    try:
        if request.args.get("from"):
            start = date.fromisoformat(request.args["from"])
        else:
            start = service.month_start(today).replace(month=1)
    except ValueError:
        errors["from"] = _("Give a date as YYYY-MM-DD.")
        start = today.replace(month=1, day=1)
    try:
        end = date.fromisoformat(request.args["to"]) if request.args.get("to") else today
    except ValueError:
        errors["to"] = _("Give a date as YYYY-MM-DD.")
        end = today
    # Bounds at the form: the guide service began this century, and a period ends within a year.
    earliest, latest = date(2000, 1, 1), today + timedelta(days=366)
    for name, day in (("from", start), ("to", end)):
        if not earliest <= day <= latest:
            errors[name] = _("Give a date between %(first)s and %(last)s.", first=format_local_date(earliest),
                             last=format_local_date(latest))
    start, end = min(max(start, earliest), latest), min(max(end, earliest), latest)
    if end < start:
        errors["to"] = _("The end date is before the start date.")
        end = start
    return units, unit_id, unit_ids, start, end, errors


@bp.route("/statistics")
@roles_required(Role.GUIDE)
def statistics():
    units, unit_id, unit_ids, start, end, errors = _statistics_request()
    figures = service.statistics(unit_ids, start, end + timedelta(days=1), library_zone())
    return render_template(
        "guide/statistics.html",
        figures=figures, units=units, unit_id=unit_id, start=start, end=end, errors=errors,
        chart=chart.month_chart(list(figures.months.items())),
        topics=service.TOPICS, devices=service.DEVICES,
        outcomes={k.value: v for k, v in service.OUTCOME_LABELS.items()},
        referrals={k.value: v for k, v in service.REFERRAL_LABELS.items()},
        durations={key: label for _, _, key, label in service.DURATION_BUCKETS},
        limit_labels=_limit_labels(),
        month_labels={key: guide_month(key) for key in figures.months},
        week_labels={key: week_label(key) for key in figures.weeks},
    ), (422 if errors else 200)


def week_label(key):
    """A statistics week ("2026-W10", ISO weeks as Finnish calendars count them) in words."""
    year, week = key.split("-W")
    return _("week %(week)d, %(year)s", week=int(week), year=year)


def _limit_labels():
    version = service.current_version()
    if version is None:
        return {}
    return {i.key: service.item_label(i, _language()) for i in version.group(ItemGroup.NEVER)}


@bp.route("/statistics.csv")
@roles_required(Role.GUIDE)
def statistics_csv():
    units, unit_id, unit_ids, start, end, errors = _statistics_request()
    if errors:
        return " ".join(errors.values()), 422
    figures = service.statistics(unit_ids, start, end + timedelta(days=1), library_zone())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "key", "count"])
    writer.writerow(["total", "sessions", figures.total])
    writer.writerow(["total", "minutes", figures.total_minutes])
    writer.writerow(["total", "sessions_with_limit", figures.sessions_with_limit])
    writer.writerow(["total", "sessions_with_never_1_exception", figures.sessions_with_never_1_exception])
    for section, counts in figures.sections():
        for key, count in counts.items():
            writer.writerow([section, key, count])
    filename = f"guide-statistics-{start.isoformat()}-{end.isoformat()}.csv"
    return Response(
        out.getvalue(), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.app_template_filter("guide_month")
def guide_month(key, pattern="LLLL yyyy"):
    """A statistics month ("2026-03") in the user's language: maaliskuu 2026, or "maalis" under a bar."""
    year, month = (int(part) for part in key.split("-"))
    return format_date(date(year, month, 1), pattern)


@bp.app_template_filter("guide_text")
def guide_text(text):
    """An item's text with the seed's bold emphasis: **...** becomes <strong>, everything else escaped."""
    parts = str(escape(text or "")).split(EMPHASIS)
    return Markup("".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts)))


@bp.app_template_filter("guide_topic")
def topic_label(code):
    return service.TOPICS.get(code, code)
