"""The desk's desktop notification choices: read and changed by the agent alone (notify.py)."""
from flask import abort, jsonify, request
from flask_login import current_user

from blueprints.chat import bp, notify
from common.access import Role, roles_required
from common.refusals import NotAllowed, Refused, status_of


@bp.route("/agents/<int:user_id>/notifications", methods=["GET", "POST"])
@roles_required(Role.CHAT_AGENT)
def notify_choices(user_id):
    if user_id != current_user.id:
        abort(403)  # another agent's choices are theirs alone
    if request.method == "GET":
        return jsonify(notify.choices_of(user_id).as_dict())
    try:
        choices = notify.set_choices(current_user, user_id, request.form.to_dict())
    except NotAllowed:
        abort(403)
    except Refused as refusal:
        return jsonify({"error": str(refusal.message), "field": refusal.field}), status_of(refusal)
    return jsonify(choices.as_dict())


@bp.app_template_global()
def chat_notify_choices():
    """The desk's sound-and-notification bar reads the agent's choices (templates/chat/index.html)."""
    return notify.choices_of(current_user.id)
