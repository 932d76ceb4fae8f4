"""Guide checklist routes: guides of a unit reach that unit's sessions; the editor is for service admins."""
from tests.matrix import ADMIN, GUIDE, GUIDE_OTHER, Access

GUIDES = frozenset({ADMIN, GUIDE, GUIDE_OTHER})
GUIDE_OF_L = frozenset({ADMIN, GUIDE})  # the session is in unit L: a guide of L2 gets 404
ADMIN_ONLY = frozenset({ADMIN})


def prepare(world):
    from blueprints.guide import service
    from blueprints.guide.models import ItemGroup

    version = service.ensure_first_version()
    session = service.start_session(world.users["guide"], world.units["L"].id, ["banking"], "phone", "fi")
    world.extra["guide_session"] = session.id
    world.extra["guide_always_item"] = version.group(ItemGroup.ALWAYS)[0].id
    world.extra["guide_never_item"] = version.group(ItemGroup.NEVER)[1].id


def _session(w):
    return {"session_id": w.extra["guide_session"]}


ROUTES = {
    "guide.index": Access(GUIDES),
    "guide.today": Access(GUIDES),
    "guide.session_view": Access(GUIDE_OF_L, args=_session),
    "guide.session_checklist": Access(GUIDE_OF_L, args=_session),
    "guide.tick": Access(
        GUIDE_OF_L,
        method="POST",
        args=lambda w: {"session_id": w.extra["guide_session"], "item_id": w.extra["guide_always_item"]},
        data=lambda w: {"ticked": "1"},
        status=200,
    ),
    "guide.record_exception": Access(GUIDE_OF_L, method="POST", args=_session, data=lambda w: {"applied": "1"},
                                     status=200),
    "guide.record_limit": Access(
        GUIDE_OF_L,
        method="POST",
        args=_session,
        data=lambda w: {"limit": w.extra["guide_never_item"], "referred_to": "service_provider"},
        status=200,
    ),
    "guide.end_session": Access(GUIDE_OF_L, args=_session),
    "guide.print_checklist": Access(GUIDES),
    "guide.admin_checklist": Access(ADMIN_ONLY),
    "guide.admin_item": Access(ADMIN_ONLY, args=lambda w: {"item_id": w.extra["guide_always_item"]}),
    "guide.admin_move_item": Access(
        ADMIN_ONLY, method="POST", args=lambda w: {"item_id": w.extra["guide_always_item"]},
        data=lambda w: {"direction": "down"}, status=303
    ),
    "guide.admin_retire_item": Access(ADMIN_ONLY, method="POST",
                                      args=lambda w: {"item_id": w.extra["guide_always_item"]}, status=303),
    "guide.statistics": Access(GUIDES),
    "guide.statistics_csv": Access(GUIDES),
}
