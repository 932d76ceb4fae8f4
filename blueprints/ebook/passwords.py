"""One-time passwords: printed on the receipt of the request that makes them, stored hashed only."""
import secrets

from werkzeug.security import check_password_hash

from blueprints.ebook.models import EbookCustomer
from common import audit
from common.clock import utcnow
from common.security import hash_password
from common.transactions import write_transaction

# One-time passwords avoid characters that look alike on a receipt: no 0/O, no 1/I/L.
PASSWORD_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
PASSWORD_LENGTH = 8


def new_one_time_password() -> str:
    """8 characters from an alphabet without look-alikes (no 0/O, no 1/I/L)."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def make_one_time_password() -> tuple[str, str]:
    """A new one-time password and its hash. Hashing is slow (scrypt), so it is done before the
    write transaction, never inside it."""
    password = new_one_time_password()
    return password, hash_password(password)


def issue_one_time_password(customer: EbookCustomer, made: tuple[str, str] | None = None) -> str:
    """Give the customer a one-time password (`made` by make_one_time_password, or a new one),
    stored hashed only: the request that makes it shows it on the receipt, and no later request
    can show it again. Returns the password."""
    password, hashed = made or make_one_time_password()
    customer.password_hash = hashed
    customer.password_issued_at = utcnow()
    return password


def check_one_time_password(customer: EbookCustomer, password: str) -> bool:
    return check_password_hash(customer.password_hash, password)


def reissue_password(customer: EbookCustomer) -> str:
    """A new one-time password (audited), returned for the receipt the request shows."""
    made = make_one_time_password()  # slow: before the write transaction
    with write_transaction():
        password = issue_one_time_password(customer, made)
        audit.record("ebook.password_reissued", obj=customer, unit=customer.unit_id)
    return password
