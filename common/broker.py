"""Publishing tasks from the request path with a bounded cost, whatever the broker does.

Every task a web request queues after its commit is also covered by a sweep (dirty score
cells, stalled webhook deliveries, pending linkage runs), so a publish that fails loses
nothing: it only delays the work until the sweep. What must not happen is a request that
waits for a broker that accepts connections but never answers (a stopped Redis). Hence:

- the transport's sockets have connect and read timeouts and no retry on a timeout
  (`CELERY_BROKER_TRANSPORT_OPTIONS`, `BROKER_SOCKET_TIMEOUT`);
- `publish` sends with Celery's publish retries off;
- after one failure this process stops trying for `BROKER_BACKOFF_SECONDS` (a small circuit
  breaker), so a request that queues several tasks (a recompute and twelve webhook
  deliveries) pays for one timeout at most, and so do the requests after it.

In the embedded mode (no broker, tasks run eagerly) `publish` simply runs the task.
"""

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)


class BrokerUnavailable(ConnectionError):
    """The broker failed recently; the task was not sent (its sweep will pick the work up)."""


class _Breaker:
    """Per-process memory of the last publish failure (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open_until = 0.0

    def is_open(self) -> bool:
        with self._lock:
            return time.monotonic() < self._open_until

    def trip(self, seconds: float) -> None:
        with self._lock:
            self._open_until = time.monotonic() + seconds

    def reset(self) -> None:
        with self._lock:
            self._open_until = 0.0


breaker = _Breaker()


def publish(task: Any, args: Sequence[Any] = (), *, countdown: float | None = None) -> None:
    """Send `task(*args)` (after `countdown` seconds) without Celery's publish retries.

    Raises BrokerUnavailable while the breaker is open, or the broker's own error (and opens
    the breaker) when sending fails; callers log it and leave the work to the sweep. Eagerly
    executed tasks (embedded mode) run as before and their errors propagate unchanged.
    """
    options: dict[str, Any] = {}
    if countdown:
        options["countdown"] = countdown
    if task.app.conf.task_always_eager:
        task.apply_async(tuple(args), **options)
        return
    if breaker.is_open():
        raise BrokerUnavailable(f"not sending {task.name}: the broker failed moments ago")
    try:
        task.apply_async(tuple(args), retry=False, **options)
    except Exception:
        breaker.trip(getattr(settings, "BROKER_BACKOFF_SECONDS", 5.0))
        raise
