"""Thin Celery tasks of the comments app: ids in, one service call, idempotent."""

from celery import shared_task
from django.db import InterfaceError, OperationalError


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def compute_theme_run_task(run_id: int) -> None:
    """Compute one theme run; a run that is gone or already computed is left alone."""
    from .services import compute_theme_run

    compute_theme_run(run_id)


@shared_task(acks_late=True)
def queue_due_theme_runs_task() -> int:
    """Periodic sweep (beat): start runs for surveys whose readable comments changed."""
    from .services import queue_due_theme_runs

    return queue_due_theme_runs()
