"""E-book counter signup (seed 002): Dutch branch staff sign a customer up for a digital subscription.

Flow: new customer at my branch -> card number scanned or "v" + Enter (generated at save from
the branch's sequence row) -> customer details with address lookup and duplicate warning ->
tariff offered by age, live cost summary -> save, answered by the receipt with the one-time
password (only the saving POST shows it; stored hashed) -> customer overview, where staff
correct ("Wijzig"), end ("Klant afsluiten") or, with nothing billed, delete ("Verwijder").
Colleagues at the branch see today's signups and an open overview change live. Per branch (a
service admin's page): the login address printed on the receipt and the accepted scanned card
formats. Rules live in service.py; settings: EBOOK_REGISTRATION_FEE_CENTS (default 0),
EBOOK_ADDRESS_SERVICE_URL (PDOK locatieserver "free" search; unset: embedded demo addresses),
EBOOK_TIMEZONE (default Europe/Amsterdam).
"""
from flask import Blueprint

bp = Blueprint("ebook", __name__)

from blueprints.ebook import routes  # noqa: E402,F401
