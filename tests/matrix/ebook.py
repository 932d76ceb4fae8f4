from tests.matrix import ADMIN, COUNTER, COUNTER_OTHER, Access

ROUTES = {
    "ebook.index": Access(frozenset({ADMIN, COUNTER, COUNTER_OTHER})),
}
