from flask import render_template

from blueprints.registration import bp
from common.access import Role, roles_required


@bp.route("/")
@roles_required(Role.REGISTRAR, Role.MAIN_USER)
def index():
    return render_template("registration/index.html")
