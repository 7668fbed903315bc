"""Pure helpers of settings.py for the shared services (no Django imports, unit-tested).

The cache must be shared by every web process whenever there is more than one: a throttle or
lock-out counted per process lets each gunicorn worker accept its own quota. So the cache is
Redis when `CACHE_URL` names one, or, without `CACHE_URL`, when the Celery broker is Redis
(same server, its own key prefix); only the embedded mode keeps a per-process memory cache.
Every Redis client on the request path gets connect and read timeouts, so a Redis that
accepts connections but never answers costs a bounded wait, never a hung request.
"""

from typing import Any

REDIS_SCHEMES = ("redis://", "rediss://")
REDIS_CACHE = "common.redis_cache.SharedClientRedisCache"  # Django's, one client per pool


def redis_cache(url: str, *, socket_timeout: float) -> dict[str, Any]:
    """Django's Redis cache (sharing its client) at `url` with bounded socket waits."""
    return {
        "BACKEND": REDIS_CACHE,
        "LOCATION": url,
        "KEY_PREFIX": "cxsurvey",
        "OPTIONS": {
            "socket_connect_timeout": socket_timeout,
            "socket_timeout": socket_timeout,
            "retry_on_timeout": False,
        },
    }


def cache_setting(*, cache_url: str, broker_url: str, socket_timeout: float) -> dict[str, Any]:
    """The CACHES["default"] entry: CACHE_URL if given (any scheme django-environ reads;
    Redis ones get timeouts), else the Redis broker's server, else a per-process memory
    cache (embedded mode, one process)."""
    if cache_url.startswith(REDIS_SCHEMES):
        return redis_cache(cache_url, socket_timeout=socket_timeout)
    if cache_url:
        import environ  # only for non-Redis URLs (memcached, locmem, dummy)

        return environ.Env.cache_url_config(cache_url)
    if broker_url.startswith(REDIS_SCHEMES):
        return redis_cache(broker_url, socket_timeout=socket_timeout)
    return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}


def broker_transport_options(*, socket_timeout: float) -> dict[str, Any]:
    """Celery's Redis transport: bounded connect and read waits, no retry on a timeout, one
    connection attempt (publishers leave failed work to the sweeps; `common.broker`)."""
    return {
        "max_retries": 0,
        "interval_start": 0,
        "interval_step": 0.2,
        "socket_connect_timeout": socket_timeout,
        "socket_timeout": socket_timeout,
        "retry_on_timeout": False,
    }


def proxy_ssl_header(raw: str) -> tuple[str, str] | None:
    """SECURE_PROXY_SSL_HEADER from "X-Forwarded-Proto=https" (header name as sent)."""
    if not raw:
        return None
    name, _, value = raw.partition("=")
    if not name.strip() or not value.strip():
        raise ValueError(f"SECURE_PROXY_SSL_HEADER={raw!r}: use Header-Name=value")
    meta = "HTTP_" + name.strip().upper().replace("-", "_")
    return meta, value.strip()
