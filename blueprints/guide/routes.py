from flask import render_template

from blueprints.guide import bp
from common.access import Role, roles_required


@bp.route("/")
@roles_required(Role.GUIDE)
def index():
    return render_template("guide/index.html")
