"""The error pages: what a person sees when a request cannot be answered as asked. Nothing a
person saves ends in a 500 page: a busy database answers "try again" (503), a refusal no route
caught answers with its own message and status."""
from flask import Flask, current_app, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, SecurityError

from common import transactions
from common.refusals import Busy, NotAllowed, Refused, status_of
from common.views import error_page
from extensions import db

BUSY_PAGE_MESSAGE = _l("The database was too busy to save this just now, and nothing was saved. Go back and try again.")


def busy_page() -> ResponseReturnValue:
    db.session.rollback()
    page, status = error_page(503, _l("Too busy just now"), BUSY_PAGE_MESSAGE)
    # htmx swaps a 503 (a form's "save again" from render_refusal); a whole error page is no
    # part of a page: an htmx request keeps what it shows.
    headers = {"Retry-After": "1", **({"HX-Reswap": "none"} if request.headers.get("HX-Request") else {})}
    return page, status, headers


def init_app(app: Flask) -> None:
    @app.errorhandler(400)
    def bad_request(error: HTTPException) -> ResponseReturnValue:
        if isinstance(error, SecurityError):
            # A host not in TRUSTED_HOSTS: no page of ours, whose links would be built for that host.
            return "Unknown host", 400, {"Content-Type": "text/plain; charset=utf-8"}
        return error_page(400, _l("Bad request"), _l("The request could not be understood."))

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> ResponseReturnValue:
        return error_page(
            400,
            _l("The form has expired"),
            _l("The page was open too long or the form came from elsewhere. Go back, reload the page and try again."),
        )

    @app.errorhandler(403)
    def forbidden(error: HTTPException | NotAllowed) -> ResponseReturnValue:
        return error_page(403, _l("Not allowed"), _l("Your roles do not give access to this page."))

    @app.errorhandler(NotAllowed)
    def not_allowed(error: NotAllowed) -> ResponseReturnValue:
        return forbidden(error)

    @app.errorhandler(Refused)
    def refused(error: Refused) -> ResponseReturnValue:
        # A refusal no route answered on its own page (render_refusal): its message and status.
        if isinstance(error, Busy):
            return busy_page()
        db.session.rollback()
        return error_page(status_of(error), _l("Not done"), error.message)

    @app.errorhandler(404)
    def not_found(error: HTTPException) -> ResponseReturnValue:
        return error_page(404, _l("Page not found"), _l("There is no page at this address."))

    @app.errorhandler(410)
    def gone(error: HTTPException) -> ResponseReturnValue:
        return error_page(410, _l("Link no longer valid"), _l("This link has been used or has expired."))

    @app.errorhandler(429)
    def too_many(error: HTTPException) -> ResponseReturnValue:
        return error_page(
            429, _l("Too many attempts"), _l("Too many attempts in a short time. Wait a minute and try again.")
        )

    @app.errorhandler(OperationalError)
    def database_busy(error: OperationalError) -> ResponseReturnValue:
        # A write transaction turns this into Busy itself; a read that waited too long for the
        # database is told to try again too, which is true, instead of a 500 page.
        if not transactions.is_busy(error):
            raise error
        return busy_page()

    @app.errorhandler(PoolTimeout)
    def no_free_connection(error: PoolTimeout) -> ResponseReturnValue:
        # Every connection of the pool was in use for the pool's whole timeout: as busy.
        current_app.logger.warning("No database connection free in time: %s", error)
        return busy_page()

    @app.errorhandler(500)
    def server_error(error: Exception) -> ResponseReturnValue:
        db.session.rollback()
        return error_page(500, _l("Something went wrong"), _l("The error has been logged. Try again in a moment."))
