"""Demo data: the units and the staff every other area's demo records belong to."""
import secrets

from blueprints.accounts import service
from blueprints.accounts.models import UnitKind
from common.access import Role

# The demo staff: username, display name, language, roles as (role, unit code).
DEMO_STAFF = [
    ("admin", "Sirpa Celia", "fi", [(Role.SERVICE_ADMIN, None)]),
    ("paakayttaja", "Paula Pääkäyttäjä", "fi", [(Role.MAIN_USER, "HKI-LIB"), (Role.REGISTRAR, "HKI-LIB")]),
    ("rekisteroija", "Riikka Rekisteröijä", "fi", [(Role.REGISTRAR, "HKI-LIB")]),
    ("kollega", "Kalle Kollega", "fi", [(Role.REGISTRAR, "HKI-LIB")]),
    ("koulu", "Kaisa Koulu", "sv", [(Role.REGISTRAR, "KALLIO-SCH")]),
    ("balie", "Bert Balie", "nl", [(Role.COUNTER_STAFF, "GIETEN")]),
    ("agentti", "Aino Asiakaspalvelu", "fi", [(Role.CHAT_AGENT, "HKI-LIB")]),
    ("agentti2", "Erja Asiakaspalvelu", "fi", [(Role.CHAT_AGENT, "HKI-LIB")]),
    ("opastaja", "Olli Opastaja", "fi", [(Role.GUIDE, "HKI-LIB")]),
]
DEMO_UNITS = [
    ("HKI-LIB", "Helsingin kaupunginkirjasto", UnitKind.LIBRARY, None),
    ("KALLIO-SCH", "Kallion koulu", UnitKind.SCHOOL, None),
    ("UNI-HKI", "Helsingin yliopisto", UnitKind.HIGHER_EDUCATION, None),
    ("GIETEN", "Gieten", UnitKind.BRANCH, "9428"),
    ("ANNEN", "Annen", UnitKind.BRANCH, "9468"),
]


def seed_staff():
    """Create the demo units and staff. Returns the units by code and the passwords by username."""
    units = {code: service.create_unit(code, name, kind, branch) for code, name, kind, branch in DEMO_UNITS}
    passwords = {}
    for username, display_name, language, roles in DEMO_STAFF:
        passwords[username] = f"demo-{secrets.token_urlsafe(9)}"
        service.create_user(
            username,
            display_name,
            f"{username}@library.invalid",
            language,
            passwords[username],
            [(role, units.get(code)) for role, code in roles],
        )
    return units, passwords
