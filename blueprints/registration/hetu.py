"""Finnish identity codes (henkilötunnus): parsing, the keyed hash, encryption and the masked form.

Pure functions: no database and no application; the keys are arguments (service.py passes the
application's). An invalid code is refused with the reason, at the form's "hetu" field.
"""
import hashlib
import hmac
from datetime import date

from cryptography.fernet import Fernet
from flask_babel import gettext as _
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
)
from stdnum.fi import hetu as stdnum_hetu

from common.clock import local_today
from common.refusals import Refused

CENTURIES = {"+": 1800, "-": 1900, "Y": 1900, "X": 1900, "W": 1900, "V": 1900, "U": 1900,
             "A": 2000, "B": 2000, "C": 2000, "D": 2000, "E": 2000, "F": 2000}


def parse(code: str | None, today: date | None = None) -> tuple[str, date]:
    """Validate a Finnish identity code and return (code, birth date).

    The rule: python-stdnum's fi.hetu (format, real date, check character; every
    century sign + - Y X W V U A-F) and the birth date is not in the future. All 11
    characters are kept, upper-cased: Y is never turned into -, since 010190-123M and
    010190Y123M are two people. Individual numbers 900-999 are temporary or test codes.
    """
    code = (code or "").strip().upper()
    if not code:
        raise Refused(_("Enter an identity code."), field="hetu")
    if len(code) != 11:
        raise Refused(_("An identity code has 11 characters (DDMMYYCNNNX), for example 131052-308T."), field="hetu")
    # The reason is the person's message; python-stdnum's exception adds nothing to it.
    try:
        code = stdnum_hetu.validate(code)
    except (InvalidFormat, InvalidLength):
        raise Refused(
            _("The format is wrong: six digits of the birth date, the century sign, three digits and the check "
              "character."),
            field="hetu",
        ) from None
    except InvalidChecksum:
        raise Refused(
            _("The check character does not match: check the code for typing errors."), field="hetu"
        ) from None
    except InvalidComponent:
        if code[7:10].isdigit() and int(code[7:10]) >= 900:
            raise Refused(
                _("Individual numbers 900-999 are temporary or test codes and cannot be registered."), field="hetu"
            ) from None
        raise Refused(_("The birth date in the code does not exist."), field="hetu") from None
    born = date(CENTURIES[code[6]] + int(code[4:6]), int(code[2:4]), int(code[0:2]))
    if born > (today or local_today()):
        raise Refused(_("The birth date in the code is in the future."), field="hetu")
    return code, born


def keyed_hash(code: str, key: str) -> str:
    """The keyed hash (HMAC-SHA256, the key in hex) used to find a customer by code without
    storing it."""
    return hmac.new(bytes.fromhex(key), code.encode(), hashlib.sha256).hexdigest()


def encrypt(code: str, key: str) -> str:
    """The code encrypted with a Fernet key, to be shown again on request."""
    return Fernet(key.encode()).encrypt(code.encode()).decode()


def decrypt(token: str, key: str) -> str:
    return Fernet(key.encode()).decrypt(token.encode()).decode()


def mask(code: str) -> str:
    """Lists show the birth date, century sign and check character only: 131052-***T."""
    return code[:7] + "***" + code[10]
