"""Where the customer lives and banks: the postcode, the address looked up from it (the national
address service or the demo table), the street and city a customer is saved with, the IBAN
and BIC."""
import json
from urllib.parse import urlencode
from urllib.request import urlopen

from flask import current_app
from flask_babel import lazy_gettext as _l
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import InvalidComponent, ValidationError
from stdnum.nl import postcode as stdnum_postcode

from blueprints.ebook.models import EbookCustomer
from common.refusals import Refused

# Dutch bank codes (IBAN characters 5-8) and their BICs: enough for the counter to fill in the BIC.
DUTCH_BANKS = {
    "ABNA": "ABNANL2A",
    "ASNB": "ASNBNL21",
    "BUNQ": "BUNQNL2A",
    "FVLB": "FVLBNL22",
    "INGB": "INGBNL2A",
    "KNAB": "KNABNL2H",
    "RABO": "RABONL2U",
    "RBRB": "RBRBNL21",
    "REVO": "REVONL22",
    "SNSB": "SNSBNL2A",
    "TRIO": "TRIONL2U",
}

# Demo addresses by postcode: street, city, the house numbers that exist. The national
# address service replaces this table in production; staff can always type the address.
DEMO_ADDRESSES = {
    "9468BG": ("Kruisakkers", "ANNEN", range(1, 80)),
    "9468AA": ("Brink", "ANNEN", range(1, 40)),
    "9468CA": ("Zuidlaarderweg", "ANNEN", range(1, 120)),
    "9461AA": ("Stationsstraat", "GIETEN", range(1, 60)),
    "9461BC": ("Bloemakkers", "GIETEN", range(1, 45)),
    "9461CD": ("Asserstraat", "GIETEN", range(1, 90)),
}


def normalise_postcode(value: str | None, country: str = "NL", field: str = "postcode") -> str:
    """A Dutch postcode is 4 digits (not starting with 0), a space and 2 letters, not SA, SD or SS."""
    value = (value or "").strip().upper()
    if country != "NL":
        return value
    try:
        return stdnum_postcode.validate(value)
    except InvalidComponent:
        # 4 digits and 2 letters, but letters PostNL never gives out: saying "4 digits and 2
        # letters" again would only confuse.
        raise Refused(_l("The letters SA, SD and SS are not used in Dutch postcodes: check the postcode "
                         "(like 9468 BG)."), field=field) from None
    except ValidationError:
        raise Refused(_l("Enter a postcode like 9468 BG: 4 digits and 2 letters."), field=field) from None


def lookup_address(postcode: str, house_number: int) -> tuple[str, str] | None:
    """Street and city for a postcode and house number, or None when the address is unknown.

    With EBOOK_ADDRESS_SERVICE_URL set, the national address service (the PDOK locatieserver
    "free" search over the BAG) answers; otherwise the embedded demo table does.
    """
    compact = postcode.replace(" ", "").upper()
    service_url = current_app.config.get("EBOOK_ADDRESS_SERVICE_URL")
    if service_url:
        return _ask_address_service(service_url, compact, house_number)
    found = DEMO_ADDRESSES.get(compact)
    if found and house_number in found[2]:
        return found[0], found[1]
    return None


def find_address(country: str, postcode: str | None, house_number: int | None) -> tuple[str, str] | None:
    """The lookup as the form is being filled in: street and city, or None while the postcode is
    not one yet or the address is unknown."""
    if not house_number:
        return None
    try:
        postcode = normalise_postcode(postcode, country)
    except Refused:
        return None  # not a postcode yet: nothing to look up
    return lookup_address(postcode, house_number)


def settle_address(country: str, postcode: str, house_number: int, street: str | None = "",
                   city: str | None = "", by_hand: bool = False,
                   saved: EbookCustomer | None = None) -> tuple[str, str]:
    """The street and city a customer is saved with: (street, city).

    Typed `by_hand`: as typed, and both are needed. A correction of a `saved` customer that
    leaves the country, postcode and house number as they are keeps the street and city saved
    with them (typed by hand or looked up): fixing an email asks no address service. Otherwise
    they are looked up; an unknown address is refused at the house number, and staff may then
    enter it by hand. May ask the address service: call it before the write transaction.
    """
    if by_hand:
        typed = (street or "", city or "")
        for name, value in zip(("street", "city"), typed, strict=True):
            if not value.strip():
                raise Refused(_l("Enter the street and city, or untick 'by hand' to look them up."), field=name)
        return typed
    if saved is not None and (country, postcode, house_number) == (saved.country, saved.postcode, saved.house_number):
        return saved.street, saved.city
    found = lookup_address(postcode, house_number)
    if found is None:
        raise Refused(
            _l("No address is known for this postcode and house number: the street and city were cleared. "
               "Check them or enter the address by hand."),
            field="house_number",
        )
    return found


def settle_postal_address(street: str | None, number: str | None, postcode: str | None,
                          city: str | None) -> tuple[str, str, str, str]:
    """The optional postal address ("Postadres"), e.g. Postbus 123, 9400 AA ASSEN: empty, or all
    four parts with a Dutch postcode. (street, number, postcode, city), tidied; a refusal names
    the field to fill in or correct."""
    parts = [" ".join((value or "").split()) for value in (street, number, postcode, city)]
    if not any(parts):
        return "", "", "", ""
    names = ("postal_street", "postal_house_number", "postal_postcode", "postal_city")
    for name, value in zip(names, parts, strict=True):
        if not value:
            raise Refused(_l("Fill in the whole postal address (street or PO box, number, postcode and city), "
                             "or leave it empty."), field=name)
    parts[2] = normalise_postcode(parts[2], "NL", field="postal_postcode")
    return parts[0], parts[1], parts[2], parts[3]


def _ask_address_service(service_url: str, postcode: str, house_number: int) -> tuple[str, str] | None:
    query = urlencode({"q": f"postcode:{postcode} and huisnummer:{house_number}", "fq": "type:adres", "rows": 1})
    try:
        with urlopen(f"{service_url}?{query}", timeout=3) as answer:  # noqa: S310 - configured https URL
            docs = json.load(answer).get("response", {}).get("docs", [])
    except (OSError, ValueError, AttributeError):
        return None  # the service is down or answered nonsense: staff type the address by hand
    found = next((d for d in docs if isinstance(d, dict) and d.get("straatnaam")
                  and str(d.get("postcode", postcode)).replace(" ", "").upper() == postcode
                  and str(d.get("huisnummer", house_number)) == str(house_number)), None)
    if found is None:
        return None
    return found["straatnaam"], str(found.get("woonplaatsnaam", "")).upper()


def validate_iban(value: str | None) -> tuple[str, str]:
    """An IBAN must pass the mod-97 check; a Dutch one must name a known bank. Returns (IBAN, BIC)."""
    try:
        number = stdnum_iban.validate(value or "")
    except ValidationError:
        raise Refused(_l("This IBAN is not valid: check the digits."), field="iban") from None
    bic = ""
    if number.startswith("NL"):
        bic = DUTCH_BANKS.get(number[4:8], "")
        if not bic:
            raise Refused(_l("This IBAN names an unknown Dutch bank code."), field="iban")
    return number, bic


def validate_bic(value: str | None, derived: str = "") -> str:
    """An optional BIC (for a foreign IBAN whose BIC cannot be derived) must be a valid BIC;
    for a Dutch IBAN it must be the bank's own."""
    value = (value or "").replace(" ", "").upper()
    if not value:
        return derived
    if not stdnum_bic.is_valid(value):
        raise Refused(_l("This BIC is not valid: 8 or 11 letters and digits, e.g. INGBNL2A."), field="bic")
    if derived and stdnum_bic.compact(value)[:8] != derived[:8]:
        raise Refused(_l("This BIC does not belong to the bank of the IBAN (%(bic)s).", bic=derived), field="bic")
    return value


def format_iban(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def bank_account(typed: str | None) -> tuple[str | None, str | None, str | None] | None:
    """What is typed in the IBAN field, for the live cost summary: (IBAN, BIC, None), or
    (None, None, the problem); None when nothing is typed."""
    if not (typed or "").strip():
        return None
    try:
        number, bic = validate_iban(typed)
    except Refused as refusal:
        return None, None, refusal.message
    return format_iban(number), bic, None
