"""Cache calls on the request path with a bounded cost, like `broker.publish` for tasks.

Used where the cache only saves work (a cached survey definition, a recompute coalescing
key): a failed call returns the caller's fallback, and after one failure this process skips
the cache for BROKER_BACKOFF_SECONDS, so a Redis that stopped answering costs a request one
socket timeout at most, not one per call.
"""

import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache

from .broker import _Breaker

logger = logging.getLogger(__name__)

cache_breaker = _Breaker()


def _failed(operation: str) -> None:
    logger.warning("Cache %s failed; skipping the cache for a while", operation, exc_info=True)
    cache_breaker.trip(getattr(settings, "BROKER_BACKOFF_SECONDS", 5.0))


def get(key: str, default: Any = None) -> Any:
    if cache_breaker.is_open():
        return default
    try:
        return cache.get(key, default)
    except Exception:
        _failed("get")
        return default


def set_many(entries: dict[str, Any], timeout: float) -> None:
    if cache_breaker.is_open():
        return
    try:
        cache.set_many(entries, timeout=timeout)
    except Exception:
        _failed("set")


def add(key: str, value: Any, timeout: float, *, unavailable: bool) -> bool:
    """cache.add; `unavailable` is the answer while the cache cannot be asked."""
    if cache_breaker.is_open():
        return unavailable
    try:
        return bool(cache.add(key, value, timeout=timeout))
    except Exception:
        _failed("add")
        return unavailable


def count_in_window(key: str, window: float) -> int:
    """One more at `key` in a window of `window` seconds started by its first count; the new
    count. The Redis backend does it in one round trip; others add then increment. Raises
    when the cache fails (callers decide what a failed count means)."""
    counter = getattr(cache, "count_in_window", None)
    if counter is not None:
        return int(counter(key, window))
    cache.add(key, 0, timeout=window)
    try:
        return int(cache.incr(key))
    except ValueError:  # the window ended between add and incr
        cache.add(key, 1, timeout=window)
        return 1


def delete(key: str) -> None:
    if cache_breaker.is_open():
        return
    try:
        cache.delete(key)
    except Exception:
        _failed("delete")
