"""Rate limits that hold while Redis is away.

The counters are kept in Redis (REDIS_URL) so that every process counts the same requests.
While Redis does not answer, Flask-Limiter counts each route's limits in this process's memory
(RATELIMIT_IN_MEMORY_FALLBACK_ENABLED), says so in the log once and goes back to Redis by
itself when it answers again: a Redis outage never turns a login into an error page.
`hit()` is the same for a limit a service counts itself (the identity-code lookups).

`counted_if_done()` counts a request before it is done and gives the count back if it is not
done: a limit that counts only what succeeded (the chat queue's joins) then holds however many
requests come at once. Flask-Limiter's `deduct_when` tests the count before a request and adds to
it after the answer, so every request of a burst passes the test before the first is counted.
"""
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from limits import RateLimitItem
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from extensions import limiter

logger = logging.getLogger(__name__)
_in_memory = FixedWindowRateLimiter(MemoryStorage())


def hit(limit: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
    """Count one request against `limit` (a limits RateLimitItem); False when it is over. The
    storage increments and answers in one step (Redis: a Lua script; memory: under a lock), so
    of requests counted at once exactly as many as the limit allows get True."""
    try:
        return limiter.limiter.hit(limit, *identifiers, cost=cost)
    except redis.RedisError as error:
        logger.warning("Rate-limit storage does not answer (%s): counting %s in this process", error, identifiers[0])
        return _in_memory.hit(limit, *identifiers, cost=cost)


def within(limit: RateLimitItem, *identifiers: str) -> bool:
    """hit(), when rate limits are on (RATELIMIT_ENABLED): False when this request is over."""
    return not limiter.enabled or hit(limit, *identifiers)


@contextmanager
def counted_if_done(*counts: tuple[RateLimitItem, str, str]) -> Iterator[None]:
    """Count the request against each (limit, kind, key) before the block does it; over any of
    them, raise 429 with nothing done. If the block raises (a refusal: nothing was done), the
    counts are given back, so only what was done counts against the limits."""
    if not limiter.enabled:
        yield
        return
    taken: list[tuple[RateLimitItem, str, str]] = []
    try:
        for limit, kind, key in counts:
            taken.append((limit, kind, key))
            if not hit(limit, kind, key):
                raise TooManyRequests()
        yield
    except BaseException:
        for limit, kind, key in taken:
            hit(limit, kind, key, cost=-1)  # given back: the same atomic increment, by minus one
        raise
