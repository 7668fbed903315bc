"""The demo's distribution story, seeded through the platform's write paths: contacts of the
manager's store imported from CSV, a store-visit survey e-mailed to its customers (some of
whom answered, two as detractors with a follow-up case each, one closed), a reminder
schedule, and a fortnightly employee pulse whose first wave is open and answered, so its
next wave (due now) opens and releases the first one's results."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import Permission, User
from django.db.models import Q
from django_celery_beat.models import PeriodicTask

from common.net import public_base_url
from distribution.models import Contact, FollowUpCase, ReminderSchedule, WaveSchedule
from distribution.services.cases import close_case, open_follow_up_cases
from distribution.services.contacts import import_contacts, read_contact_file
from distribution.services.schedules import (
    open_next_wave,
    save_reminder_schedule,
    save_wave_schedule,
)
from distribution.services.sending import invite_contacts
from surveys.models import Invitation, OrgUnit, Question, Survey
from surveys.services import open_survey, submit_response
from surveys.services.metrics import ensure_metrics_for_questions

VISIT_SURVEY = "northwind-store-visit"
PULSE_TEMPLATE = "northwind-fortnightly"
WAVE_SCHEDULE = "Northwind fortnightly pulse"
CUSTOMERS = 10
EMPLOYEES = 6
# (customer number, NPS, CSAT): two detractors open cases; the rest have not answered yet.
VISIT_ANSWERS = ((0, 2, 2), (1, 5, 3), (2, 9, 5), (3, 10, 5))
MANAGER_PERMISSIONS = (
    ("distribution", "add_contact"),
    ("distribution", "view_contact"),
    ("distribution", "change_contact"),
    ("distribution", "view_sendlog"),
    ("distribution", "view_reminderschedule"),
    ("distribution", "view_followupcase"),
)


@dataclass
class DistributionReport:
    contacts: int = 0
    invitations: int = 0
    cases: int = 0


def seed_distribution(*, store: OrgUnit, manager: User, now: datetime) -> DistributionReport:
    """Seed the story once; a second run changes nothing."""
    report = DistributionReport()
    if Survey.objects.filter(slug=VISIT_SURVEY).exists():
        return report
    _grant(manager)
    report.contacts = _import_contacts(store).created
    survey = _visit_survey(store)
    report.invitations = invite_contacts(
        survey=survey,
        contacts=Contact.objects.filter(unit=store, audience=Contact.Audience.CUSTOMER),
        base_url=public_base_url(),  # PUBLIC_BASE_URL, else the development address
    )
    # Sent four days ago, so the reminder (after 3 days, at most 1) is due now.
    Invitation.objects.filter(survey=survey).update(created_at=now - timedelta(days=4))
    _answer_visits(survey)
    save_reminder_schedule(schedule=ReminderSchedule(survey=survey, after_days=3, max_reminders=1))
    cases = list(FollowUpCase.objects.filter(survey=survey).order_by("pk"))
    report.cases = len(cases)
    if cases:
        close_case(case=cases[0], user=manager, outcome="resolved", note="Called back.")
    _pulse_waves(store, now)
    return report


def _grant(manager: User) -> None:
    condition = Q(pk__in=[])
    for app_label, codename in MANAGER_PERMISSIONS:
        condition |= Q(content_type__app_label=app_label, codename=codename)
    manager.user_permissions.add(*Permission.objects.filter(condition))


def _import_contacts(store: OrgUnit):
    lines = ["unit_code,email,customer_id,language,audience"]
    lines += [
        f"{store.code},customer{n}@northwind.example,NW-{store.code}-{n},en,customer"
        for n in range(CUSTOMERS)
    ]
    lines += [
        f"{store.code},staff{n}.{store.code}@northwind.example,,en,employee"
        for n in range(EMPLOYEES)
    ]
    return import_contacts(rows=read_contact_file("\n".join(lines) + "\n"))


def _visit_survey(store: OrgUnit) -> Survey:
    survey = Survey.objects.create(
        title="Northwind store visit",
        slug=VISIT_SURVEY,
        audience=Survey.Audience.CUSTOMER,
        kind=Survey.Kind.TRANSACTIONAL,
        root_unit=store.ancestors().first() or store,
        languages=["en"],
    )
    # No metric keys: the story's scores and linkage come from the main surveys only.
    Question.objects.create(
        survey=survey, code="nps", order=1, type=Question.Type.NPS,
        text="How likely are you to recommend this store to a friend?",
    )  # fmt: skip
    Question.objects.create(
        survey=survey, code="csat", order=2, type=Question.Type.CSAT,
        text="How satisfied were you with your visit?",
    )  # fmt: skip
    return open_survey(survey=survey)


def _answer_visits(survey: Survey) -> None:
    responses = []
    for number, nps, csat in VISIT_ANSWERS:
        invitation = Invitation.objects.get(
            survey=survey, contact=f"customer{number}@northwind.example"
        )
        responses.append(
            submit_response(
                survey=survey, answers={"nps": nps, "csat": csat}, token=invitation.token
            ).pk
        )
    # What the queued task does; here at once, so the story does not wait for a worker.
    open_follow_up_cases(response_ids=responses)


def _pulse_waves(store: OrgUnit, now: datetime) -> None:
    template = Survey.objects.create(
        title="Northwind fortnightly pulse",
        slug=PULSE_TEMPLATE,
        audience=Survey.Audience.EMPLOYEE,
        kind=Survey.Kind.PULSE,
        anonymous=True,
        root_unit=store.ancestors().first() or store,
    )
    question = Question.objects.create(
        survey=template, code="enps", order=1, type=Question.Type.NPS,
        text="How likely are you to recommend Northwind as a place to work?",
        metric_key="pulse.wave_enps",
    )  # fmt: skip
    ensure_metrics_for_questions([question])
    schedule = WaveSchedule.objects.create(
        name=WAVE_SCHEDULE, template=template, frequency=WaveSchedule.Frequency.WEEKS,
        every_weeks=2, base_url=public_base_url(),
    )  # fmt: skip
    schedule.units.add(store)
    save_wave_schedule(schedule=schedule)
    started = now - timedelta(days=14)
    wave = open_next_wave(schedule=schedule, now=started)
    if wave is None:
        return
    for invitation in Invitation.objects.filter(survey=wave.survey):
        submit_response(survey=wave.survey, answers={"enps": 8}, token=invitation.token)
    # Beat last ran when the first wave opened: the next one is due now.
    PeriodicTask.objects.filter(pk=schedule.periodic_task_id).update(last_run_at=started)


def wipe_distribution() -> None:
    """Delete the story's schedules, surveys (with answers and cases) and contacts."""
    schedules = WaveSchedule.objects.filter(name=WAVE_SCHEDULE)
    task_ids = [s.periodic_task_id for s in schedules]
    surveys = Survey.objects.filter(
        Q(slug=VISIT_SURVEY) | Q(slug__startswith=f"{PULSE_TEMPLATE}-w")
    )
    reminder_tasks = ReminderSchedule.objects.filter(survey__in=surveys)
    task_ids += [s.periodic_task_id for s in reminder_tasks]
    schedules.delete()
    FollowUpCase.objects.filter(survey__in=surveys).delete()
    for survey in surveys:
        survey.responses.all().delete()
    surveys.delete()
    Survey.objects.filter(slug=PULSE_TEMPLATE).delete()
    Contact.objects.filter(email__endswith="@northwind.example").delete()
    PeriodicTask.objects.filter(pk__in=[pk for pk in task_ids if pk]).delete()
