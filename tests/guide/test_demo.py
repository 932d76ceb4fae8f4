"""The demo data: checklist version 1 and finished sessions that show in the statistics."""
from datetime import timedelta
from zoneinfo import ZoneInfo

from blueprints.accounts.models import Unit
from blueprints.guide import service
from blueprints.guide.models import GuidanceSession
from cli import seed_demo_data
from extensions import db
from tests.conftest import library_today


def test_demo_data_has_version_1_and_finished_sessions(app_context):
    seed_demo_data()
    version = service.current_version()
    assert version.number == 1 and len(version.items) == 18
    sessions = db.session.query(GuidanceSession).all()
    assert len(sessions) == 3 and all(not s.in_progress for s in sessions)
    library = db.session.scalar(db.select(Unit).where(Unit.code == "HKI-LIB"))
    today = library_today()
    figures = service.statistics([library.id], today - timedelta(days=10), today + timedelta(days=2),
                                 ZoneInfo("Europe/Helsinki"))
    assert figures.total == 3
    assert figures.limits == {"never-2": 1}
