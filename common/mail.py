"""The mail outbox: every mail is stored first, then delivered over SMTP with retries.

With no SMTP_HOST configured (the embedded default) mails stay in the outbox, readable
by service admins on the outbox page, so nothing is lost and nothing leaves the machine.
"""
import smtplib
import threading
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, cast

from flask import Config, Flask, current_app, url_for
from sqlalchemy import CursorResult, String, Text, Update, event, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from common.clock import utcnow
from common.crypto import EncryptedText
from common.transactions import write_transaction
from extensions import Model, db

MAX_ATTEMPTS = 10


class OutboxMail(Model):
    __tablename__ = "outbox_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # held: no SMTP configured; pending: waiting for (another) try; sending; sent; failed: gave up
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(200))
    # A one-time token the mail carries (a link to set a password): the body keeps it masked,
    # and the token itself is kept, encrypted, only until the mail has been sent or given up on.
    secret: Mapped[str | None] = mapped_column(EncryptedText)


def mask_secret(secret: str) -> str:
    return secret[:4] + "…"


def send_mail(
    recipient: str, subject: str, body: str, due_at: datetime | None = None, secret: str | None = None
) -> OutboxMail:
    """Store a mail for delivery; it is sent after the current transaction commits, or, with
    `due_at` (naive UTC), by the delivery loop once that time has come. A `secret` in the body
    is stored masked, so that reading the outbox gives no usable link."""
    held = not current_app.config["SMTP_HOST"]
    if secret:
        body = body.replace(secret, mask_secret(secret))
    mail = OutboxMail(
        recipient=recipient, subject=subject, body=body, secret=secret,
        status="held" if held else "pending", next_attempt_at=due_at or utcnow(),
    )
    db.session.add(mail)
    if not held and due_at is None:
        db.session.info.setdefault("new_mail", True)
    return mail


UNSENT = ("held", "pending", "cancelled")


def rewrite_unsent(mail_id: int, recipient: str, subject: str, body: str) -> bool:
    """Rewrite a mail that has not gone out (nor is going out now), and let it go when due: a
    scheduled mail follows what it is about. The conditional update never touches a mail the
    delivery loop has claimed. Returns whether it was rewritten."""
    status = "pending" if current_app.config["SMTP_HOST"] else "held"
    rewrite = (update(OutboxMail).where(OutboxMail.id == mail_id, OutboxMail.status.in_(UNSENT))
               .values(recipient=recipient, subject=subject, body=body, status=status))
    return bool(_rows_changed(rewrite))


def cancel_unsent(mail_id: int) -> bool:
    """Keep a scheduled mail from going out (it stays in the outbox, marked cancelled)."""
    cancel = (update(OutboxMail).where(OutboxMail.id == mail_id, OutboxMail.status.in_(("held", "pending")))
              .values(status="cancelled"))
    return bool(_rows_changed(cancel))


def _rows_changed(statement: Update) -> int:
    """How many rows an UPDATE changed (an UPDATE's result is a CursorResult, which
    Session.execute is not typed to say)."""
    return cast(CursorResult[Any], db.session.execute(statement)).rowcount


def external_link(endpoint: str, **values: Any) -> str:
    """A link for a mail, on the site's configured address (EXTERNAL_URL), never on the request's
    Host header: whoever sends a request chooses that header, and a reset link with a valid
    token must not point to their server."""
    return current_app.config["EXTERNAL_URL"].rstrip("/") + url_for(endpoint, **values)


def _build_message(mail: OutboxMail, config: Config) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Message-ID"] = mail.message_id or make_msgid(domain=config["MAIL_FROM"].split("@")[-1])
    message.set_content(mail.body.replace(mask_secret(mail.secret), mail.secret) if mail.secret else mail.body)
    return message


def _smtp_send(message: EmailMessage, config: Config) -> None:
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=20) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        smtp.send_message(message)


def deliver_due(now: datetime | None = None) -> int:
    """Try every mail that is due. A mail is claimed with a conditional update, so two
    processes never send the same mail; the claim and the result are each a write transaction
    of their own, and the SMTP conversation between them holds no lock. Returns the number sent."""
    config = current_app.config
    if not config["SMTP_HOST"]:
        return 0
    now = now or utcnow()
    due = db.session.scalars(
        select(OutboxMail.id).where(OutboxMail.status == "pending", OutboxMail.next_attempt_at <= now)
    ).all()
    sent = 0
    for mail_id in due:
        with write_transaction():
            claimed = _rows_changed(
                update(OutboxMail)
                .where(OutboxMail.id == mail_id, OutboxMail.status == "pending")
                .values(status="sending", attempts=OutboxMail.attempts + 1)
            )
        if not claimed:
            continue
        message = _build_message(db.session.get_one(OutboxMail, mail_id), config)
        failure: str | None
        try:
            _smtp_send(message, config)
        except (OSError, smtplib.SMTPException) as error:
            failure = str(error)[:1000]
        else:
            failure = None
        with write_transaction():
            mail = db.session.get_one(OutboxMail, mail_id)
            mail.message_id = message["Message-ID"]
            if failure is None:
                mail.status, mail.sent_at, mail.last_error, mail.secret = "sent", utcnow(), None, None
            elif mail.attempts >= MAX_ATTEMPTS:
                mail.status, mail.last_error, mail.secret = "failed", failure, None
            else:
                # Back off: 1, 2, 4 ... minutes, at most an hour.
                delay = min(config["MAIL_RETRY_SECONDS"] * 2 ** (mail.attempts - 1), 3600)
                mail.status, mail.last_error = "pending", failure
                mail.next_attempt_at = utcnow() + timedelta(seconds=delay)
        sent += failure is None
    return sent


def _deliver_after_commit(session: Session) -> None:
    """Start a delivery right after a transaction that stored a mail."""
    if not session.info.pop("new_mail", False):
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's own method

    def run() -> None:
        with app.app_context():
            try:
                deliver_due()
            finally:
                db.session.remove()

    threading.Thread(target=run, name="outbox", daemon=True).start()


def init_app(app: Flask) -> None:
    if not event.contains(Session, "after_commit", _deliver_after_commit):
        event.listen(Session, "after_commit", _deliver_after_commit)
