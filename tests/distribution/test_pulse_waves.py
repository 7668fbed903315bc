from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import ModelEntry

from cxsurvey.celery import app as celery_app
from distribution.exceptions import InvalidSchedule
from distribution.models import Contact, Wave, WaveSchedule
from distribution.services.schedules import open_next_wave, save_wave_schedule
from surveys.models import Invitation, Question, ResultRelease, Survey
from surveys.services import submit_response
from tests.distribution.factories import ContactFactory
from tests.factories import QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def schedule(org_tree):
    template = SurveyFactory(employee=True, status=Survey.Status.DRAFT, slug="pulse")
    QuestionFactory(survey=template, code="enps", type=Question.Type.NPS, metric_key="e.enps")
    for number in range(6):
        ContactFactory(
            email=f"staff{number}@example.com",
            unit=org_tree["stores"][0],
            audience=Contact.Audience.EMPLOYEE,
        )
    ContactFactory(unit=org_tree["stores"][2], audience="employee")  # south: not chosen
    ContactFactory(unit=org_tree["stores"][0])  # a customer: never in a pulse
    schedule = WaveSchedule(
        name="Pulse", template=template, frequency=WaveSchedule.Frequency.WEEKS, every_weeks=2
    )
    schedule.save()
    schedule.units.add(org_tree["north"])
    return save_wave_schedule(schedule=schedule)


def _roll(schedule, capture, now=None):
    with capture(execute=True):
        return open_next_wave(schedule=schedule, now=now)


def test_wave_opens_a_copy_and_invites_every_employee_of_the_units(
    schedule, django_capture_on_commit_callbacks
):
    wave = _roll(schedule, django_capture_on_commit_callbacks)
    assert wave.number == 1 and wave.survey.status == Survey.Status.OPEN
    assert wave.survey.is_employee and wave.survey.slug == "pulse-w1"
    assert list(wave.survey.questions.values_list("code", "metric_key")) == [("enps", "e.enps")]
    assert sorted(m.to[0] for m in mail.outbox) == [f"staff{n}@example.com" for n in range(6)]


def test_next_wave_closes_the_previous_one_and_releases_its_results(
    schedule, django_capture_on_commit_callbacks
):
    first = _roll(schedule, django_capture_on_commit_callbacks)
    for invitation in Invitation.objects.filter(survey=first.survey)[:5]:
        with django_capture_on_commit_callbacks(execute=True):
            submit_response(survey=first.survey, answers={"enps": 8}, token=invitation.token)
    assert not ResultRelease.objects.exists()  # nothing readable while the wave runs

    assert _roll(schedule, django_capture_on_commit_callbacks) is None  # too soon: same wave
    later = timezone.now() + timedelta(days=14)
    second = _roll(schedule, django_capture_on_commit_callbacks, now=later)

    first.refresh_from_db()
    first.survey.refresh_from_db()
    assert second.number == 2 and second.survey.status == Survey.Status.OPEN
    assert first.survey.status == Survey.Status.CLOSED and first.closed_at == later
    release = ResultRelease.objects.get()
    assert (release.survey, release.kind) == (first.survey, ResultRelease.Kind.WAVE)
    assert Invitation.objects.filter(survey=second.survey).count() == 6


def test_wave_schedule_runs_on_the_beat_interval(schedule):
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    assert task.task == "distribution.tasks.open_next_wave_task" and task.interval.every == 14
    beat_schedule = ModelEntry(task, app=celery_app).schedule
    last_run = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
    beat_schedule.nowfun = lambda: last_run + timedelta(days=13)
    due, next_in = beat_schedule.is_due(last_run)
    assert (due, round(next_in)) == (False, 86400)
    beat_schedule.nowfun = lambda: last_run + timedelta(days=14, seconds=1)
    assert beat_schedule.is_due(last_run)[0] is True


def test_monthly_wave_schedule_is_due_on_the_first(schedule):
    schedule.frequency = WaveSchedule.Frequency.MONTHLY
    save_wave_schedule(schedule=schedule)
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    assert task.interval is None and task.crontab.day_of_month == "1"
    beat_schedule = ModelEntry(task, app=celery_app).schedule
    last_run = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
    beat_schedule.nowfun = lambda: datetime(2026, 1, 31, 6, 0, tzinfo=UTC)
    due, next_in = beat_schedule.is_due(last_run)
    assert (due, round(next_in)) == (False, 86400)
    beat_schedule.nowfun = lambda: datetime(2026, 2, 1, 6, 0, 30, tzinfo=UTC)
    assert beat_schedule.is_due(last_run)[0] is True


def test_wave_schedule_needs_an_employee_template(schedule):
    schedule.template = SurveyFactory()
    with pytest.raises(InvalidSchedule):
        save_wave_schedule(schedule=schedule)


def test_wave_task_rolls_over(schedule, django_capture_on_commit_callbacks):
    from distribution.tasks import open_next_wave_task

    with django_capture_on_commit_callbacks(execute=True):
        open_next_wave_task.delay(schedule.pk)
    assert Wave.objects.count() == 1
