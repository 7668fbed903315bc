"""Reminder and pulse-wave schedules, stored as django-celery-beat periodic tasks so beat
(DatabaseScheduler) runs them and the admin edits them; and the wave rollover itself."""

import json
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from common.net import public_base_url
from surveys.models import Choice, Question, Survey
from surveys.services import close_survey, open_survey

from ..exceptions import InvalidSchedule
from ..models import Contact, ReminderSchedule, Wave, WaveSchedule
from .sending import invite_contacts

# Reminders are checked daily at this hour (local time); the periodic task is editable.
REMINDER_HOUR = 9
WAVE_HOUR = 6


def save_reminder_schedule(*, schedule: ReminderSchedule) -> ReminderSchedule:
    """Save a reminder schedule and its periodic task (daily at REMINDER_HOUR, enabled while
    the schedule is active). The hour may then be edited on the periodic task."""
    with transaction.atomic():
        schedule.save()
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute="0", hour=str(REMINDER_HOUR), day_of_week="*", day_of_month="*",
            month_of_year="*", timezone=timezone.get_current_timezone_name(),
        )  # fmt: skip
        task = schedule.periodic_task or PeriodicTask(crontab=crontab)
        task.name = f"Reminders: {schedule.survey.title} ({schedule.survey.pk})"[:200]
        task.task = "distribution.tasks.send_due_reminders_task"
        task.kwargs = json.dumps({"schedule_id": schedule.pk})
        task.enabled = schedule.active
        task.save()
        if schedule.periodic_task_id != task.pk:
            schedule.periodic_task = task
            schedule.save(update_fields=["periodic_task", "updated_at"])
    return schedule


def save_wave_schedule(*, schedule: WaveSchedule) -> WaveSchedule:
    """Save a pulse-wave schedule and its periodic task: an interval of 7 × N days, or the
    1st of each month at WAVE_HOUR. The template must be an employee survey."""
    if not schedule.template.is_employee:
        raise InvalidSchedule("Pulse waves copy an employee survey; choose one as template.")
    with transaction.atomic():
        schedule.save()
        task = schedule.periodic_task or PeriodicTask()
        task.interval, task.crontab = None, None
        if schedule.frequency == WaveSchedule.Frequency.MONTHLY:
            task.crontab, _ = CrontabSchedule.objects.get_or_create(
                minute="0", hour=str(WAVE_HOUR), day_of_week="*", day_of_month="1",
                month_of_year="*", timezone=timezone.get_current_timezone_name(),
            )  # fmt: skip
        else:
            task.interval, _ = IntervalSchedule.objects.get_or_create(
                every=7 * schedule.every_weeks, period=IntervalSchedule.DAYS
            )
        task.name = f"Pulse waves: {schedule.name} ({schedule.pk})"[:200]
        task.task = "distribution.tasks.open_next_wave_task"
        task.kwargs = json.dumps({"schedule_id": schedule.pk})
        task.enabled = schedule.active
        task.save()
        if schedule.periodic_task_id != task.pk:
            schedule.periodic_task = task
            schedule.save(update_fields=["periodic_task", "updated_at"])
    return schedule


def _min_gap(schedule: WaveSchedule) -> timedelta:
    """Two rollovers closer than this are one beat firing twice: the second does nothing."""
    if schedule.frequency == WaveSchedule.Frequency.MONTHLY:
        return timedelta(days=14)
    return timedelta(days=3 * schedule.every_weeks)


def open_next_wave(*, schedule: WaveSchedule, now: datetime | None = None) -> Wave | None:
    """Open the next wave of a pulse schedule and close the previous one.

    The new wave is a copy of the template survey (questions, choices, metric keys, so
    scores continue the same metrics), opened and sent to every employee contact of the
    schedule's units (their subtrees). Closing the previous wave's survey is its release
    point: `close_survey` queues the release of its employee results. Returns None (and
    changes nothing) when the schedule is inactive or a wave opened less than `_min_gap` ago.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = WaveSchedule.objects.select_for_update().get(pk=schedule.pk)
        previous = locked.waves.order_by("-number").select_related("survey").first()
        if not locked.active or (previous and previous.opened_at > now - _min_gap(locked)):
            return None
        number = previous.number + 1 if previous else 1
        survey = open_survey(survey=_copy_survey(locked.template, number))
        wave = Wave.objects.create(schedule=locked, number=number, survey=survey, opened_at=now)
        paths = list(locked.units.values_list("path", flat=True))
        employees = Contact.objects.filter(audience=Contact.Audience.EMPLOYEE)
        condition = Q(pk__in=[])
        for path in paths:
            condition |= Q(unit__path__startswith=path)
        invite_contacts(
            survey=survey,
            contacts=employees.filter(condition),
            base_url=public_base_url(fallback=locked.base_url),
        )
        if previous is not None:
            close_survey(survey=previous.survey)
            previous.closed_at = now
            previous.save(update_fields=["closed_at"])
    return wave


def _copy_survey(template: Survey, number: int) -> Survey:
    survey = Survey.objects.get(pk=template.pk)
    survey.pk = None
    survey.title = f"{template.title} — wave {number}"[:200]
    survey.slug = f"{template.slug[:70]}-w{number}"
    survey.status = Survey.Status.DRAFT
    survey.opened_at = survey.closed_at = None
    survey.save()
    for question in Question.objects.filter(survey=template).prefetch_related("choices"):
        choices: list[Choice] = list(question.choices.all())
        question.pk = None
        question.survey = survey
        question.save()
        for choice in choices:
            choice.pk = None
            choice.question = question
        Choice.objects.bulk_create(choices)
    return survey
