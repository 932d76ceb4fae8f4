"""How a rule says no, in every area: services raise these, routes show the message.

- `Refused(message, field=None)`: what was asked cannot be done as asked; the input breaks a
  rule. Answered 422, with the message at `field` when it names a form field (a route may
  show it at another field of its own form), else above the part of the page that was sent.
- `Conflict(message)`, a kind of Refused: the request was sound, but what it acts on is not,
  or no longer, in the state it needs: someone else was quicker (the customer is already
  served, the code is already registered), the session has ended, the checklist has a newer
  version. Answered 409, and the page shows how things stand now.
- `Busy()`, a kind of Refused: the database did not give this save its turn in time (see
  common/transactions.py); nothing was stored. Answered 503 with the person's values kept and
  "save again".
- `NotAllowed()`: this person may not do this at all. Answered 403 by the application's error
  handler (common/views.py), so a route need not catch it.

`status_of` is the one place where a refusal becomes an HTTP status, and
`common.views.render_refusal` the one way a route answers with one.
"""
from typing import TypeAlias

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

# What a refusal says to the person: a str, or a lazy_gettext one that is translated when shown.
Message: TypeAlias = str | LazyString


class Refused(Exception):
    """A rule said no; str() and `message` are for the person, `field` names the form field."""

    def __init__(self, message: Message, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Conflict(Refused):
    """The thing acted on is not (or no longer) in the state the request needs."""

    def __init__(self, message: Message) -> None:
        super().__init__(message)


class Busy(Refused):
    """The database was too busy to take this save in time; nothing was stored."""

    def __init__(self) -> None:
        super().__init__(_l("The database was too busy to save this just now, and nothing was saved. "
                            "Your entries are kept: save again."))


class NotAllowed(Exception):
    """The person may not do this at all."""


def status_of(refusal: Refused | NotAllowed) -> int:
    """The HTTP status a refusal is answered with: 403, 409, 422 or 503."""
    if isinstance(refusal, NotAllowed):
        return 403
    if isinstance(refusal, Busy):
        return 503
    if isinstance(refusal, Conflict):
        return 409
    return 422
