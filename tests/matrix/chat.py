from tests.matrix import ADMIN, AGENT, AGENT_OTHER, Access

ROUTES = {
    "chat.index": Access(frozenset({ADMIN, AGENT, AGENT_OTHER})),
}
