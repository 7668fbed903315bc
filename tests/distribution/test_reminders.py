import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import ModelEntry

from cxsurvey.celery import app as celery_app
from distribution.models import Contact, ReminderSchedule, SendLog
from distribution.services.schedules import save_reminder_schedule
from distribution.services.sending import invite_contacts, send_due_reminders
from distribution.tasks import send_due_reminders_task
from surveys.models import Invitation
from tests.distribution.factories import ContactFactory
from tests.factories import QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def invited(org_tree, django_capture_on_commit_callbacks):
    """Three contacts invited 10 days ago to an open customer survey."""
    survey = SurveyFactory()
    QuestionFactory(survey=survey)
    for name in ("ann", "bob", "cat"):
        ContactFactory(email=f"{name}@example.com", unit=org_tree["stores"][0])
    with django_capture_on_commit_callbacks(execute=True):
        invite_contacts(survey=survey, contacts=Contact.objects.all(), base_url="http://x")
    Invitation.objects.update(created_at=timezone.now() - timedelta(days=10))
    mail.outbox.clear()
    return survey


def _remind(schedule, capture, now=None):
    with capture(execute=True):
        return send_due_reminders(schedule=schedule, now=now)


def test_reminder_goes_to_non_responders_once_and_no_more(
    invited, django_capture_on_commit_callbacks
):
    schedule = ReminderSchedule.objects.create(survey=invited, after_days=3, max_reminders=1)
    Invitation.objects.filter(contact="ann@example.com").update(used=True)
    Contact.objects.filter(email="bob@example.com").update(unsubscribed=True)

    assert _remind(schedule, django_capture_on_commit_callbacks) == 1
    assert [message.to for message in mail.outbox] == [["cat@example.com"]]
    assert mail.outbox[0].subject.startswith("Reminder:")
    assert _remind(schedule, django_capture_on_commit_callbacks) == 0
    later = timezone.now() + timedelta(days=30)
    assert _remind(schedule, django_capture_on_commit_callbacks, now=later) == 0
    assert len(mail.outbox) == 1
    assert Invitation.objects.get(contact="cat@example.com").reminders_sent == 1


def test_reminders_are_spaced_by_n_days_up_to_m(invited, django_capture_on_commit_callbacks):
    schedule = ReminderSchedule.objects.create(survey=invited, after_days=4, max_reminders=3)
    start = Invitation.objects.first().created_at
    counts = [
        _remind(schedule, django_capture_on_commit_callbacks, now=start + timedelta(days=day))
        for day in (3, 4, 5, 8, 12, 20)
    ]
    # 3 contacts; due on days 4, 8 and 12; never a fourth.
    assert counts == [0, 3, 0, 3, 3, 0]
    numbers = SendLog.objects.filter(kind="reminder").values_list("number", flat=True)
    assert sorted(set(numbers)) == [1, 2, 3]


def test_reminder_never_reaches_someone_who_answered_after_it_was_queued(
    invited, django_capture_on_commit_callbacks, monkeypatch
):
    schedule = ReminderSchedule.objects.create(survey=invited, after_days=3, max_reminders=1)
    monkeypatch.setattr("distribution.services.sending.queue_sends", lambda ids: None)
    send_due_reminders(schedule=schedule)
    Invitation.objects.update(used=True)
    from distribution.services.sending import send_emails

    ids = list(SendLog.objects.filter(kind="reminder").values_list("pk", flat=True))
    assert send_emails(send_ids=ids) == 0
    assert mail.outbox == []
    assert set(SendLog.objects.filter(kind="reminder").values_list("status", flat=True)) == {
        "skipped"
    }


def test_reminder_schedule_is_a_beat_task_due_daily(invited):
    schedule = save_reminder_schedule(
        schedule=ReminderSchedule(survey=invited, after_days=3, max_reminders=2)
    )
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    assert task.task == "distribution.tasks.send_due_reminders_task"
    assert json.loads(task.kwargs) == {"schedule_id": schedule.pk}

    # The schedule object beat itself evaluates: daily at 09:00 (UTC in tests).
    beat_schedule = ModelEntry(task, app=celery_app).schedule
    last_run = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    beat_schedule.nowfun = lambda: datetime(2026, 3, 2, 8, 59, tzinfo=UTC)
    due, next_in = beat_schedule.is_due(last_run)
    assert (due, round(next_in)) == (False, 60)
    beat_schedule.nowfun = lambda: datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)
    assert beat_schedule.is_due(last_run)[0] is True

    schedule.active = False
    save_reminder_schedule(schedule=schedule)
    task.refresh_from_db()
    assert task.enabled is False


def test_reminder_task_runs_the_schedule(invited, django_capture_on_commit_callbacks):
    schedule = ReminderSchedule.objects.create(survey=invited, after_days=3, max_reminders=1)
    with django_capture_on_commit_callbacks(execute=True):
        send_due_reminders_task.delay(schedule.pk)
    assert len(mail.outbox) == 3
    send_due_reminders_task.delay(schedule.pk + 1000)  # gone: a no-op
