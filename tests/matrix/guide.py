from tests.matrix import ADMIN, GUIDE, GUIDE_OTHER, Access

ROUTES = {
    "guide.index": Access(frozenset({ADMIN, GUIDE, GUIDE_OTHER})),
}
