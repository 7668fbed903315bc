"""Thin Celery tasks: ids in, one service call, idempotent and safe to retry."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

TRANSIENT = (OperationalError, InterfaceError)


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def send_emails_task(send_ids: list[int]) -> None:
    """Send one batch of queued e-mails; sends no longer queued are left alone."""
    from .services.sending import send_emails

    send_emails(send_ids=send_ids)


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def send_due_reminders_task(schedule_id: int) -> None:
    """Beat (one periodic task per reminder schedule): queue the reminders now due."""
    from .models import ReminderSchedule
    from .services.sending import send_due_reminders

    schedule = ReminderSchedule.objects.select_related("survey").filter(pk=schedule_id).first()
    if schedule is not None:
        send_due_reminders(schedule=schedule)


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def open_next_wave_task(schedule_id: int) -> None:
    """Beat (one periodic task per wave schedule): open the next wave, close the last one."""
    from .models import WaveSchedule
    from .services.schedules import open_next_wave

    schedule = WaveSchedule.objects.filter(pk=schedule_id).first()
    if schedule is not None:
        open_next_wave(schedule=schedule)


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def open_follow_up_cases_task(response_ids: list[int]) -> None:
    """Open follow-up cases for the detractors among new responses (a second run opens none)."""
    from .services.cases import open_follow_up_cases

    open_follow_up_cases(response_ids=response_ids)
