"""Desktop notifications on the chat desk: each agent's choice of which kinds they get (a new
customer in one of my queues, a new line in one of my chats), kept on the server so that it
follows the agent to another browser. The browser's side is static/js/chat-notify.js."""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from blueprints.accounts.models import User
from blueprints.chat.models import NotifyPreference
from common.refusals import NotAllowed, Refused
from common.transactions import write_transaction
from extensions import db

KINDS = ("customers", "messages")
VALUES = {"on": True, "off": False}


@dataclass(frozen=True)
class Choices:
    customers: bool = False
    messages: bool = False

    def as_dict(self) -> dict[str, bool]:
        return {"customers": self.customers, "messages": self.messages}


def choices_of(user_id: int) -> Choices:
    row = db.session.get(NotifyPreference, user_id)
    return Choices(customers=row.customers, messages=row.messages) if row else Choices()


def parse(values: dict[str, str]) -> dict[str, bool]:
    """The kinds given ("on" or "off"); any other value, or no kind at all, is refused."""
    chosen = {}
    for kind in KINDS:
        if kind not in values:
            continue
        if values[kind] not in VALUES:
            raise Refused(_l("Choose on or off."), field=kind)
        chosen[kind] = VALUES[values[kind]]
    if not chosen:
        raise Refused(_l("Choose on or off."), field=KINDS[0])
    return chosen


@write_transaction()
def set_choices(actor: User, user_id: int, values: dict[str, str]) -> Choices:
    """An agent changes only their own choices; nobody else's, not even a service admin."""
    if actor.id != user_id:
        raise NotAllowed()
    chosen = parse(values)
    row = db.session.get(NotifyPreference, user_id)
    if row is None:
        row = NotifyPreference(user_id=user_id, customers=False, messages=False)
        db.session.add(row)
    for kind, on in chosen.items():
        setattr(row, kind, on)
    db.session.flush()
    return Choices(customers=row.customers, messages=row.messages)
