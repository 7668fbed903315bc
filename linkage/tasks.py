"""Thin Celery tasks of the linkage app: ids in, one service call, idempotent and safe to retry."""

from celery import shared_task
from django.db import InterfaceError, OperationalError


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def run_linkage_task(run_id: int) -> None:
    """Compute one linkage run; a run that is gone or already finished is left alone."""
    from .services.runs import compute_linkage_run

    compute_linkage_run(run_id)


@shared_task(acks_late=True)
def requeue_stalled_linkage_runs_task() -> int:
    """Periodic sweep (beat): queue runs whose task never reached the broker or whose worker
    was lost; fail those lost too often."""
    from .services.runs import requeue_stalled_linkage_runs

    return requeue_stalled_linkage_runs()


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def refresh_expectation_statuses_task() -> int:
    """Daily: refresh the status of running performance expectations (idempotent)."""
    from .services.expectations import refresh_all_expectation_statuses

    return refresh_all_expectation_statuses()
