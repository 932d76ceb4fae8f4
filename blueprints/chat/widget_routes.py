"""The chat button's routes, asked by the library's website, not by this site's pages: the
script the snippet loads and the queue's status it polls. No login; a queue's status is what
any visitor of the library's website may know (staffed or not, its contact address)."""
from flask import abort, jsonify, render_template, request, url_for

from blueprints.chat import bp, widget
from blueprints.chat.models import ChatQueue
from extensions import db

SCRIPT_MAX_AGE = 300  # a changed script reaches the library's visitors within five minutes


def _queue(queue_id):
    return db.session.get(ChatQueue, queue_id) or abort(404)


@bp.route("/widget/<int:queue_id>.js")
def widget_script(queue_id):
    """The script of the snippet: it adds the button to the host page and opens the customer
    page in a panel. Its addresses are on the host the script was loaded from."""
    queue = _queue(queue_id)
    config = {
        "queue": queue.id,
        "status": url_for("chat.widget_status", queue_id=queue.id, _external=True),
        "page": url_for("chat_customer.index", queue=queue.id, embed=1, _external=True),
        "stylesheet": url_for("static", filename="css/chat-widget.css", _external=True),
    }
    body = render_template("chat/widget.js", config=config)
    return body, 200, {"Content-Type": "text/javascript; charset=utf-8",
                       "Cache-Control": f"public, max-age={SCRIPT_MAX_AGE}"}


@bp.route("/widget/<int:queue_id>/status")
def widget_status(queue_id):
    """Whether the queue is staffed now, with the button's texts in the host page's language
    (`lang`). Readable by the websites listed for the queue only (CORS): the button shows on
    no other site."""
    queue = _queue(queue_id)
    answer = jsonify(widget.status(queue, widget.button_language(queue, request.args.get("lang"))))
    answer.headers["Cache-Control"] = "no-store"
    answer.headers["Vary"] = "Origin"
    origin = request.headers.get("Origin")
    if origin and origin in widget.allowed_origins(queue):
        answer.headers["Access-Control-Allow-Origin"] = origin
    return answer
