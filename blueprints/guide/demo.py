"""Demo data: checklist version 1 and a few finished sessions for the statistics."""
from datetime import timedelta

from sqlalchemy import select

from blueprints.accounts.models import User
from blueprints.guide import service
from blueprints.guide.models import (
    GuidanceSession,
    ItemGroup,
    LimitMet,
    Outcome,
    Referral,
    SessionTick,
    SessionTopic,
)
from common.clock import utcnow
from extensions import db


def seed(units):
    version = service.ensure_first_version()
    guide = db.session.scalar(select(User).where(User.username == "opastaja"))
    library = units["HKI-LIB"]
    if guide is None:
        return
    now = utcnow()
    always = version.group(ItemGroup.ALWAYS)
    never = {i.key: i for i in version.group(ItemGroup.NEVER)}
    finished = [
        (["email"], "phone", "fi", Outcome.SOLVED, 20, None, 2),
        (["banking"], "phone", "fi", Outcome.REFERRED_SERVICE_PROVIDER, 15, "never-2", 1),
        (["e_resources", "phone_basics"], "tablet", "sv", Outcome.PARTLY_SOLVED, 35, None, 0),
    ]
    for topics, device, language, outcome, minutes, limit, days_ago in finished:
        started = now - timedelta(days=days_ago, hours=1)
        session = GuidanceSession(
            unit_id=library.id, guide_id=guide.id, version=version, device=device, customer_language=language,
            started_at=started, ended_at=started + timedelta(minutes=minutes), duration_minutes=minutes,
            outcome=outcome, note="", topics=[SessionTopic(topic=t) for t in topics],
        )
        db.session.add(session)
        db.session.flush()
        for item in always[:5]:
            db.session.add(SessionTick(session_id=session.id, item_id=item.id, ticked_by_id=guide.id,
                                       ticked_at=started))
        if limit:
            db.session.add(LimitMet(session_id=session.id, item_id=never[limit].id,
                                    referred_to=Referral.SERVICE_PROVIDER, recorded_by_id=guide.id,
                                    recorded_at=started + timedelta(minutes=5)))
