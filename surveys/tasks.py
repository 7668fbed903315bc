"""Thin Celery tasks: ids in, one service call, idempotent and safe to retry."""

from celery import shared_task
from django.db import InterfaceError, OperationalError


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def recompute_scores_task(survey_id: int, period: str) -> None:
    """Recompute the scores one survey feeds for one period; a no-op if the survey is gone.

    Idempotent: scores are recomputed from raw answers, so a retry or a duplicate delivery
    writes the same rows. Only transient database errors are retried.
    """
    from .services.scores import recompute_dirty_cell

    recompute_dirty_cell(survey_id=survey_id, period=period)


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def recompute_metric_scores_task(metric_key: str) -> None:
    """Recompute every stored value of one survey metric (after its scoring was edited).

    Idempotent like `recompute_scores_task`; a metric that is gone or imported is a no-op.
    """
    from .services.scores import recompute_metric

    recompute_metric(metric_key=metric_key)


@shared_task(acks_late=True)
def recompute_dirty_cells_task() -> None:
    """Periodic sweep (beat): recompute cells whose task was never queued or got lost."""
    from .services.scores import sweep_dirty_cells

    sweep_dirty_cells()


# Webhook deliveries: retried on transport errors (the service raises a ConnectionError
# subclass for those, 5xx, 408 and 429) with backoff 30 s, 60 s, … capped at one hour.
WEBHOOK_MAX_RETRIES = 8


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(ConnectionError,),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=WEBHOOK_MAX_RETRIES,
)
def deliver_webhook_task(self, delivery_id: int) -> None:
    """Post one webhook delivery; a delivered, failed or deleted one is left alone."""
    from .services.webhooks import deliver_webhook

    deliver_webhook(delivery_id=delivery_id, last_attempt=self.request.retries >= self.max_retries)


@shared_task(acks_late=True)
def requeue_stalled_webhooks_task() -> None:
    """Periodic sweep (beat): queue deliveries whose task never reached the broker."""
    from .services.webhooks import requeue_stalled_deliveries

    requeue_stalled_deliveries()


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def recompute_all_scores_task() -> None:
    """Recompute every stored survey score (after the organisation tree changed)."""
    from .services.scores import recompute_all

    recompute_all()


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def release_survey_results_task(survey_id: int) -> None:
    """Release what may be released of one survey (queued when it is closed); a survey that
    is gone is a no-op, and a second run releases nothing new."""
    from .models import Survey
    from .services.releases import release_survey

    survey = Survey.objects.filter(pk=survey_id).first()
    if survey is not None:
        release_survey(survey=survey)


@shared_task(acks_late=True)
def release_due_results_task() -> None:
    """Periodic (beat): release closed waves and due batches of employee results."""
    from .services.releases import release_due_results

    release_due_results()


@shared_task(acks_late=True)
def apply_retention_task() -> None:
    """Daily (beat): erase free text and personal data older than the retention settings."""
    from .services.erasure import apply_retention

    apply_retention()
