"""The extension objects, created once and bound to the app in create_app().

Every module imports what it needs from here; only entry points import app.py.
"""
from typing import TYPE_CHECKING

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

LANGUAGES = {"fi": "Suomi", "sv": "Svenska", "en": "English", "nl": "Nederlands"}
AREAS = ("accounts", "registration", "ebook", "chat", "guide")


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
# The models' base class: db.Model is made at run time from Base, which is what a type checker sees.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
socketio = SocketIO()
