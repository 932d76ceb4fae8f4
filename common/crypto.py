"""Encryption at rest under IDENTITY_ENCRYPTION_KEY (Fernet), and its rotation.

What is kept encrypted: the Celia customers' identity codes, the e-book customers' IBANs and
the one-time token of a password link waiting in the mail outbox (a one-time password is kept
only hashed). `rotate_key` re-encrypts
every one of them with a new key (`flask --app app keys rotate`).
"""
import json
import os
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet
from flask import Flask, current_app
from sqlalchemy import Dialect, Text, text
from sqlalchemy.types import TypeDecorator

from common.transactions import write_transaction
from extensions import db

# Every encrypted column, as (table, column): the rotation's list.
ENCRYPTED_COLUMNS = [
    ("celia_customer", "hetu_encrypted"),
    ("ebook_customer", "iban"),
    ("outbox_mail", "secret"),
]


def fernet() -> Fernet:
    return Fernet(current_app.config["IDENTITY_ENCRYPTION_KEY"].encode())


class EncryptedText(TypeDecorator[str]):
    """A text column stored Fernet-encrypted and read back in plain text; empty stays empty."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return fernet().encrypt(value.encode()).decode() if value else value

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return fernet().decrypt(value.encode()).decode() if value else value


def rotate_key(new_key: str) -> int:
    """Re-encrypt every encrypted column with `new_key` (rows still under the old key are read
    with it) in one transaction. Returns the number of values re-encrypted."""
    old_key = current_app.config["IDENTITY_ENCRYPTION_KEY"]
    keys = MultiFernet([Fernet(new_key.encode()), Fernet(old_key.encode())])
    count = 0
    with write_transaction():  # all or nothing: a value left under the old key could not be read
        for table, column in ENCRYPTED_COLUMNS:
            rows = db.session.execute(
                text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL AND {column} != ''")
            )
            for row_id, token in rows.all():
                db.session.execute(text(f"UPDATE {table} SET {column} = :token WHERE id = :id"),
                                   {"token": keys.rotate(token.encode()).decode(), "id": row_id})
                count += 1
    current_app.config["IDENTITY_ENCRYPTION_KEY"] = new_key
    return count


def store_key_if_generated(app: Flask, old_key: str, new_key: str) -> bool:
    """When the old key came from instance/secrets.json (generated on first run), write the new
    one there. Returns False when it is set elsewhere (the environment, as the README
    recommends in production), which the operator then changes."""
    path = Path(app.instance_path) / "secrets.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    if os.environ.get("IDENTITY_ENCRYPTION_KEY") or stored.get("IDENTITY_ENCRYPTION_KEY") != old_key:
        return False
    stored["IDENTITY_ENCRYPTION_KEY"] = new_key
    path.write_text(json.dumps(stored, indent=2))
    path.chmod(0o600)
    return True
