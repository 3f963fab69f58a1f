"""Per-token request rates: a fixed window counted atomically (Redis INCR when REDIS_URL is set,
Django's cache otherwise), answered with 429 and Retry-After.

Keyed by the API token's public prefix, so every process of every server shares one count per
token; session users are keyed by user id and anonymous callers by address.
"""

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600}
_PERIODS["hour"] = 3600


def parse_rate(rate: str) -> tuple[int, int]:
    """'600/min' → (600, 60)."""
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip().lower()]


_redis_client = None
_count_in_window = None

# One command, one round trip, atomic: count the request and, for the window's first, make
# the key expire with its window.
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


def _redis():
    global _redis_client, _count_in_window
    if _redis_client is None and settings.REDIS_URL:
        import redis

        _redis_client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        _count_in_window = _redis_client.register_script(_COUNT_SCRIPT)
    return _redis_client


def redis_errors() -> tuple[type[Exception], ...]:
    import redis

    return (redis.RedisError, OSError)


def _hit(key: str, period: int) -> int:
    """Count one request in the window and return the count so far."""
    if _redis() is not None:
        try:
            return int(_count_in_window(keys=[key], args=[period + 1]))
        except redis_errors():  # a Redis outage must not refuse ingestion
            return 0
    cache.add(key, 0, period + 1)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, period + 1)
        return 1


class TokenRateThrottle(BaseThrottle):
    """Set `throttle_scope` on the view; rates come from settings.GREENAI_THROTTLE_RATES."""

    def allow_request(self, request, view) -> bool:
        scope = getattr(view, "throttle_scope", None)
        rate = settings.GREENAI_THROTTLE_RATES.get(scope) if scope else None
        if not rate:
            return True
        limit, period = parse_rate(rate)
        window = int(time.time()) // period
        self.wait_seconds = (window + 1) * period - time.time()
        token = getattr(request, "auth", None)
        if token is not None and hasattr(token, "prefix"):
            who = f"t:{token.prefix}"
        elif getattr(request.user, "pk", None):
            who = f"u:{request.user.pk}"
        else:
            who = f"a:{self.get_ident(request)}"
        return _hit(f"greenai:throttle:{scope}:{who}:{window}", period) <= limit

    def wait(self) -> float:
        return max(1.0, self.wait_seconds)
