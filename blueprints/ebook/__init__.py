"""E-book counter signup (seed 002): Dutch branch staff sign a customer up for a digital subscription.

Flow: new customer at my branch -> card number scanned or "v" + Enter (generated at save from
the branch's sequence row) -> customer details with address lookup and duplicate warning ->
tariff offered by age, live cost summary -> save, answered by the receipt with the one-time
password (only the saving POST shows it; stored hashed) -> customer overview, where staff
correct ("Wijzig"), end ("Klant afsluiten") or, with nothing billed, delete ("Verwijder").
Colleagues at the branch see today's signups and an open overview change live. Per branch (a
service admin's page): the login address printed on the receipt, the accepted scanned card
formats, and the discounts staff may give (the reasons to choose from and the highest
percentage of the subscription fee; pricing.check_discount). A customer may have a remark
("Opmerking", never on the receipt) and a postal address besides the main one. The 80 mm
receipt's page is as long as the slip (static/js/ebook.js measures it before printing).
The rules, by what they are about: cards.py (card numbers, their sequences, the branch's
accepted formats), addresses.py (postcode, address lookup, the street and city saved, the
postal address, IBAN and BIC), pricing.py (tariffs, discounts, cost and change summaries, the
registration fee, the dates at the branches), passwords.py (one-time passwords), signups.py (signup, correction, ending,
deleting, finding). Settings: EBOOK_REGISTRATION_FEE_CENTS (default 0), EBOOK_ADDRESS_SERVICE_URL
(PDOK locatieserver "free" search; unset: embedded demo addresses), EBOOK_TIMEZONE (default
Europe/Amsterdam).
"""
from flask import Blueprint

bp = Blueprint("ebook", __name__)

from blueprints.ebook import routes  # noqa: E402,F401
