"""Helpers for tests against real services: the broker URL, real delivery, polling."""

import os
import time
from collections.abc import Callable
from contextlib import contextmanager

from cxsurvey.celery import app as celery_app

BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/6"


@contextmanager
def celery_broker(url: str):
    """Point the app at `url` with real (non-eager) delivery; restore the config afterwards."""
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    saved_environment = os.environ.get("CELERY_BROKER_URL")
    # Celery prefers the CELERY_BROKER_URL environment variable over its configuration.
    os.environ["CELERY_BROKER_URL"] = url
    celery_app.conf.update(broker_url=url, task_always_eager=False)
    celery_app._after_fork()  # drop pooled connections to the previous broker
    try:
        yield
    finally:
        if saved_environment is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved_environment
        celery_app.conf.update(saved)
        celery_app._after_fork()


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Poll `condition` every 0.1 s until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False
