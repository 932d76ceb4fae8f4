from tests.matrix import ADMIN, MAIN_USER, REGISTRAR, REGISTRAR_OTHER, Access

ROUTES = {
    "registration.index": Access(frozenset({ADMIN, REGISTRAR, REGISTRAR_OTHER, MAIN_USER})),
}
