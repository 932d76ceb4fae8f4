from flask import render_template

from blueprints.chat import bp
from common.access import Role, roles_required


@bp.route("/")
@roles_required(Role.CHAT_AGENT)
def index():
    return render_template("chat/index.html")
