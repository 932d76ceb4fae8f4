from flask import render_template

from blueprints.ebook import bp
from common.access import Role, roles_required


@bp.route("/")
@roles_required(Role.COUNTER_STAFF)
def index():
    return render_template("ebook/index.html")
