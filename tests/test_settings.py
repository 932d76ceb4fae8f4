"""Settings in one place: each is declared once in config.DefaultConfig; the environment
variables are the ones marked there, the README's table lists exactly those, and no code reads a
setting that is not declared (a default hidden in a `.get(..., 0)` is a second declaration)."""
import re
from pathlib import Path

from flask import Flask

import config

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["app.py", "cli.py", "jobs.py", "extensions.py", "gunicorn.conf.py", "common", "blueprints"]


def readme_table_variables():
    text = (ROOT / "README.md").read_text()
    table = text[text.index("Configuration comes from the environment"):]
    table = table[:table.index("\n\n", table.index("| Variable |"))]
    names = set()
    for row in table.splitlines()[3:]:
        names.update(re.findall(r"`([A-Z][A-Z0-9_]+)(?:=[^`]*)?`", row.split("|")[1]))
    return names


def test_the_readme_table_lists_exactly_the_environment_settings():
    assert readme_table_variables() == set(config.ENV_SETTINGS)


def test_every_setting_the_code_reads_is_declared():
    read = set()
    for entry in SOURCES:
        path = ROOT / entry
        for source in [path] if path.is_file() else path.rglob("*.py"):
            read.update(re.findall(r"config(?:\.get\(|\[)\s*\"([A-Z][A-Z0-9_]+)\"", source.read_text()))
    extensions = {"SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "BABEL_DEFAULT_LOCALE",
                  "BABEL_DEFAULT_TIMEZONE",
                  "RATELIMIT_ENABLED", "WTF_CSRF_ENABLED", "WTF_CSRF_TIME_LIMIT"}
    undeclared = read - set(vars(config.DefaultConfig)) - set(Flask.default_config) - extensions
    assert undeclared == set()


def test_an_environment_setting_takes_the_type_of_its_default():
    found = config.environment_settings({"DATABASE_URL": "postgresql://db/library", "SMTP_PORT": "587",
                                         "SMTP_STARTTLS": "1", "EBOOK_REGISTRATION_FEE_CENTS": "110",
                                         "CHAT_ICE_SERVERS": '[{"urls": "stun:stun.example.org"}]'})
    assert found == {"SQLALCHEMY_DATABASE_URI": "postgresql://db/library", "SMTP_PORT": 587, "SMTP_STARTTLS": True,
                     "EBOOK_REGISTRATION_FEE_CENTS": 110, "CHAT_ICE_SERVERS": [{"urls": "stun:stun.example.org"}]}
