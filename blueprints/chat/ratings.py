"""The customer's rating of a chat: "Did you get the help you needed?" (yes, partly, no, and an
optional comment), asked when a served chat ends, in queues whose setting asks it (off by
default; the queue form of the service admins).

Only the customer of that conversation answers: the customer page keeps the signed token of the
ended conversation in the browser's session (customer.py), and the question is offered for
RATING_WINDOW after the chat ended. A chat is rated once: one conditional UPDATE ... WHERE
rating IS NULL, so a second tab or a second click changes nothing.

The answer is stored with the visit (the conversation row, which stays after a purge for the
statistics) and counted on the day and queue of the visit in which the chat ended
(statistics.py). The comment is the customer's own words: it goes with the transcript when the
transcript is purged, and the customer's name is removed from it when the name is anonymised
(retention.py).
"""
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from blueprints.chat.models import Conversation, ConversationState, Rating
from blueprints.chat.service import changed_rows
from common.clock import utcnow
from common.refusals import Conflict, NotAllowed, Refused
from common.transactions import write_transaction

COMMENT_MAX_LENGTH = 1000
RATING_WINDOW = timedelta(hours=1)  # a library PC's next customer is not asked about the last one's chat

RATING_LABELS = {
    Rating.YES: _l("Yes"),
    Rating.PARTLY: _l("Partly"),
    Rating.NO: _l("No"),
}


def may_rate(conversation: Conversation | None) -> bool:
    """The customer of this conversation may still answer: their chat with an agent ended
    (not a removal, not a wait given up) within RATING_WINDOW, in a queue that asks, and it
    has no answer yet."""
    return (conversation is not None and conversation.state == ConversationState.ENDED
            and conversation.served_at is not None and conversation.ended_at is not None
            and conversation.queue.asks_rating and conversation.rating is None
            and utcnow() - conversation.ended_at <= RATING_WINDOW)


def check_may_rate(conversation: Conversation) -> None:
    """Refused when the chat may not be rated (any more): answered already (409), or not asked
    about, or asked too long ago (403)."""
    if not may_rate(conversation):
        if conversation.rating is not None:
            raise Conflict(_l("You have already answered. Thank you!"))
        raise NotAllowed()


@write_transaction()
def rate(conversation: Conversation, answer: str | None, comment: str | None) -> None:
    """Store the customer's answer, once. The caller has checked that the browser holds this
    conversation's token; the answer and the comment's length are checked here."""
    check_may_rate(conversation)
    try:
        rating = Rating(answer or "")
    except ValueError:
        raise Refused(_l("Choose yes, partly or no."), field="answer") from None
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise Refused(_l("A comment can be at most %(max)d characters.", max=COMMENT_MAX_LENGTH),
                      field="comment")
    stored = changed_rows(
        update(Conversation).where(Conversation.id == conversation.id, Conversation.rating.is_(None))
        .values(rating=rating, rating_comment=comment or None, rated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if stored != 1:  # another tab answered meanwhile
        raise Conflict(_l("You have already answered. Thank you!"))
