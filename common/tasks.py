"""Thin Celery tasks of the shared plumbing."""

from celery import shared_task


@shared_task(acks_late=True)
def delete_expired_idempotency_records_task() -> None:
    """Periodic sweep (beat): forget stored API results past their 24-hour lifetime."""
    from .services.idempotency import delete_expired_records

    delete_expired_records()
