"""A rate limit that holds across web processes: one counter per (scope, client) in the
shared cache, incremented atomically (Redis INCR), its window starting at the first hit.

Counting in the cache that every gunicorn worker shares is what makes "60 per minute" mean
60, not 60 per worker (settings: the cache is Redis whenever Redis is configured). A cache
that fails (down, or not answering within its socket timeout) lets the request through and
logs a warning: a submission is worth more than the limit for the seconds Redis is away.
"""

import logging
from dataclasses import dataclass

from django.conf import settings

from .cachesafe import cache_breaker, count_in_window

logger = logging.getLogger(__name__)


_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    wait_seconds: int  # until the window ends (an upper bound), when not allowed


def parse_rate(rate: str) -> tuple[int, int]:
    """ "60/minute" → (60, 60): a count, and the window in seconds (as DRF reads rates)."""
    number, _, period = rate.partition("/")
    return int(number), _SECONDS[period[:1]]


def hit(scope: str, client: str, rate: str) -> Verdict:
    """Count one request of `client` in `scope` against `rate` ("N/second|minute|hour|day")."""
    limit, window = parse_rate(rate)
    key = f"ratelimit:{scope}:{client}"
    if cache_breaker.is_open():  # failed moments ago: let the request through at once
        return Verdict(True, 0)
    try:
        count = count_in_window(key, window)
    except Exception:
        logger.warning("Rate limit %s not counted: the cache failed", scope, exc_info=True)
        cache_breaker.trip(getattr(settings, "BROKER_BACKOFF_SECONDS", 5.0))
        return Verdict(True, 0)
    return Verdict(count <= limit, 0 if count <= limit else window)


PUBLIC_SUBMIT = "public_submit"


def public_submit_rate() -> str | None:
    """PUBLIC_SUBMIT_RATE as configured (read per request, so tests and settings may change
    it)."""
    from rest_framework.settings import api_settings

    rate = api_settings.DEFAULT_THROTTLE_RATES.get(PUBLIC_SUBMIT)
    return None if rate is None else str(rate)


def hit_public_submit(client: str) -> Verdict:
    """One public submission by `client` (API or respondent page), against one shared limit."""
    rate = public_submit_rate()
    return Verdict(True, 0) if rate is None else hit(PUBLIC_SUBMIT, client, rate)
