"""Seeding of the "Northwind Retail" demo through the platform's own write paths:
units, users and surveys (from the template library), answers via `import_responses`,
revenue and retention via the outcome CSV import, a full score recompute, the release of the
employee pulses of months that have ended, then a store-level linkage run so the results
chain has its links and evidence."""

import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, tzinfo
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from comments.models import ThemeRun
from comments.selectors import latest_run, readable_comments
from comments.services import compute_theme_run, start_theme_run
from linkage.exceptions import InvalidLinkageRun
from linkage.models import Initiative, LinkageRun, OutcomeImport
from linkage.services.outcomes import import_outcome_file
from linkage.services.runs import compute_linkage_run, start_linkage_run
from surveys import periods
from surveys.exceptions import BulkInvalid
from surveys.library import ChoiceSpec, QuestionSpec
from surveys.models import Choice, DirtyScoreCell, MetricValue, OrgUnit, Question, Response, Survey
from surveys.services import MAX_IMPORT_ROWS, import_responses
from surveys.services.library import create_survey_from_template
from surveys.services.metrics import ensure_metrics, ensure_metrics_for_questions
from surveys.services.releases import period_released, release_due_results
from surveys.services.scores import hold_recompute, recompute_all
from surveys.visibility import SYSTEM

from .distribution import DistributionReport, seed_distribution, wipe_distribution
from .generator import (
    COMPANY,
    DEFAULT_SEED,
    REGIONS,
    Store,
    StoreMonth,
    demo_periods,
    moment_in,
    month_index,
    outcome_csv,
    plan_stores,
    simulate,
)
from .initiatives import IDEAS, ensure_initiatives
from .translations import add_german_texts

ProgressCallback = Callable[[str, int, int], object]  # (stage, done, total)

CUSTOMER_SURVEY = ("northwind-customers", "relationship_nps", "Northwind customer survey")
EMPLOYEE_SURVEY = ("northwind-pulse", "employee_pulse", "Northwind employee pulse")
YES_NO = (ChoiceSpec("yes", "Yes", 1), ChoiceSpec("no", "No", 0))
EXTRA_CUSTOMER_QUESTIONS = (
    QuestionSpec(
        code="ces",
        type=Question.Type.CES,
        text="Northwind made it easy for me to get what I needed.",
        metric_key="customer.ces",
    ),
    QuestionSpec(
        code="goal_reached",
        type=Question.Type.SINGLE,
        text="Did we help you achieve what you came for?",
        metric_key="cpi.goal_reached",
        choices=YES_NO,
    ),
    QuestionSpec(
        code="delivery_complaint",
        type=Question.Type.SINGLE,
        text="Did you have a problem with your delivery?",
        metric_key="customer.delivery_complaint",
        choices=YES_NO,
    ),
)
EXTRA_EMPLOYEE_QUESTIONS = (
    QuestionSpec(
        code="enps_reason",
        type=Question.Type.TEXT,
        text="What is the most important reason for your score?",
        required=False,
    ),
)
LOGINS = (
    ("leader1", "Leadership"),
    ("leader2", "Leadership"),
    ("leader3", "Leadership"),
    ("analyst", "Analysts"),
    ("manager", ""),
    ("admin", ""),
)
OUTCOME_FILE = "northwind-demo-outcomes.csv"
OUTCOME_KEYS = ("outcome.revenue", "outcome.retention_rate")


class DemoError(Exception):
    """The demo could not be seeded or reset; the message says why."""


@dataclass(frozen=True)
class DemoOptions:
    stores: int = 40
    months: int = 12
    customers_per_store: int = 30
    seed: int = DEFAULT_SEED
    last_period: str = ""  # the last month seeded ("2026-06"); empty: the current month


@dataclass(frozen=True)
class Login:
    username: str
    password: str  # empty when an existing user's password was changed after seeding
    role: str


@dataclass
class SeedReport:
    periods: list[str]
    customer_survey: Survey
    manager_store: OrgUnit
    logins: list[Login]
    responses: int = 0
    answers: int = 0
    outcome_lines: int = 0
    scores: int = 0
    releases: int = 0
    linkage_run: LinkageRun | None = None
    initiatives: int = 0
    theme_run: ThemeRun | None = None
    distribution: DistributionReport | None = None


def seed_demo(
    *, options: DemoOptions, reset: bool = False, progress: ProgressCallback | None = None
) -> SeedReport:
    """Create Northwind Retail, or complete it: store-months already seeded are skipped, so
    a re-run with the same options writes nothing. `reset` first deletes the demo's data.
    Raises DemoError (or ValueError for options outside the generated range)."""
    if min(options.stores, options.months) < 1 or options.customers_per_store < 0:
        raise DemoError("Give at least one store and one month, and no negative customers.")
    now = timezone.now()
    current = periods.label_for(timezone.localtime(now), "month")
    last = options.last_period or current
    if periods.index_of(last) > periods.index_of(current):
        raise DemoError(f"The last month {last} is in the future.")
    labels = demo_periods(options.months, last)
    month_index(labels[0])  # refuse a range outside the horizon before writing anything
    stores = plan_stores(options.stores, options.seed)
    if reset:
        wipe_demo()
    with transaction.atomic():
        units = ensure_units(stores)
        surveys = ensure_surveys(units[COMPANY[0]], labels[0])
        logins = ensure_logins(units[stores[0].code])
    report = SeedReport(labels, surveys["customer"], units[stores[0].code], logins)
    before = initiative_before(labels)
    generated = list(
        simulate(
            stores=stores,
            period_labels=labels,
            customers_per_store=options.customers_per_store,
            seed=options.seed,
            tracking_from=periods.shift(before, 1),
        )
    )
    maker = _RowMaker(units, now, timezone.get_current_timezone())
    _seed_responses(generated, surveys, maker, report, progress)
    report.outcome_lines = _seed_outcomes(generated, [store.code for store in stores], labels)
    if report.responses or DirtyScoreCell.objects.filter(survey__in=surveys.values()).exists():
        report.scores = recompute_all(progress=_stage(progress, "scores"))
    # Employee results of months that have ended are released, as the periodic task would;
    # the current month's pulse stays unpublished until it ends.
    report.releases = release_due_results()
    report.linkage_run = _link_the_chain(changed=bool(report.scores or report.releases))
    report.theme_run = _theme_the_comments(surveys["customer"], labels)
    _theme_the_comments(surveys["employee"], labels)
    report.initiatives = ensure_initiatives(
        owner=get_user_model().objects.get(username=LOGINS[0][0]),
        company=units[COMPANY[0]],
        first_period=before,
        last_period=labels[-1],
    )
    report.distribution = seed_distribution(
        store=units[stores[0].code], manager=get_user_model().objects.get(username="manager"),
        now=now,
    )  # fmt: skip
    return report


def initiative_before(labels: list[str]) -> str:
    """The before period of the measured initiatives: four months before the last (or the
    first month of a shorter demo); the tracking texts ship the month after it."""
    return labels[max(0, len(labels) - 5)]


def _link_the_chain(*, changed: bool) -> LinkageRun | None:
    """A store-level linkage run over every metric with values, computed here like
    `run_linkage` does, so the demo's scorecards read the chain with evidence without a
    worker. Skipped when scores did not change and a store-level run is already done."""
    done = LinkageRun.objects.filter(level=OrgUnit.Level.STORE, status=LinkageRun.Status.DONE)
    if not changed and done.exists():
        return None
    try:
        run = start_linkage_run(created_by=None, level=OrgUnit.Level.STORE, enqueue=False)
    except InvalidLinkageRun:
        return None  # e.g. a single store-month: nothing to correlate yet
    compute_linkage_run(run.id)
    run.refresh_from_db()
    return run


def _theme_the_comments(survey: Survey, labels: list[str]) -> ThemeRun | None:
    """Themes of the customer comments of every demo month, computed here as the task does,
    so the comment pages tell their story without a worker. Skipped when a run over the
    same months already counted every readable comment."""
    latest = latest_run(survey)
    count = readable_comments(SYSTEM, survey, periods=(labels[0], labels[-1])).count()
    if latest and (latest.first_period, latest.last_period, latest.comment_count) == (
        labels[0],
        labels[-1],
        count,
    ):
        return None
    run = start_theme_run(
        survey=survey, first_period=labels[0], last_period=labels[-1], enqueue=False
    )
    compute_theme_run(run.pk)
    run.refresh_from_db()
    return run


def _stage(progress: ProgressCallback | None, stage: str) -> Callable[[int, int], object] | None:
    if progress is None:
        return None
    return lambda done, total: progress(stage, done, total)


def ensure_units(stores: list[Store]) -> dict[str, OrgUnit]:
    """Company → regions → stores, created when missing; keyed by unit code."""
    code, name = COMPANY
    company, _ = OrgUnit.objects.get_or_create(
        code=code, defaults={"name": name, "level": OrgUnit.Level.COMPANY}
    )
    units = {code: company}
    for code, name in REGIONS:
        units[code], _ = OrgUnit.objects.get_or_create(
            code=code, defaults={"name": name, "level": OrgUnit.Level.REGION, "parent": company}
        )
    for store in stores:
        parent = units[REGIONS[store.region][0]]
        units[store.code], _ = OrgUnit.objects.get_or_create(
            code=store.code,
            defaults={"name": store.name, "level": OrgUnit.Level.STORE, "parent": parent},
        )
    return units


def ensure_surveys(company: OrgUnit, first_period: str) -> dict[str, Survey]:
    """The customer survey (relationship template plus CES, goal and delivery questions)
    and the anonymous employee pulse, made from the template library when missing."""
    surveys = {}
    for kind, (slug, template_key, title) in (
        ("customer", CUSTOMER_SURVEY),
        ("employee", EMPLOYEE_SURVEY),
    ):
        survey = Survey.objects.filter(slug=slug).first()
        if survey is None:
            survey = create_survey_from_template(
                template_key=template_key, title=title, slug=slug, root_unit=company
            )
            if kind == "customer":
                _add_questions(survey, EXTRA_CUSTOMER_QUESTIONS)
            opened = datetime.combine(periods.start_date(first_period), time.min)
            survey.opened_at = timezone.make_aware(opened)
            survey.status = Survey.Status.OPEN
            survey.languages = ["en"]
            survey.save()
        if kind == "employee" and not survey.questions.filter(code="enps_reason").exists():
            _add_questions(survey, EXTRA_EMPLOYEE_QUESTIONS)  # also in demos seeded before
        if kind == "customer":
            add_german_texts(survey, company.name)
        surveys[kind] = survey
    return surveys


def _add_questions(survey: Survey, specs: tuple[QuestionSpec, ...]) -> None:
    last = max(survey.questions.values_list("order", flat=True), default=0)
    questions = []
    for position, spec in enumerate(specs, start=1):
        question = Question.objects.create(
            survey=survey,
            code=spec.code,
            order=last + 10 * position,
            type=spec.type,
            text=spec.text,
            metric_key=spec.metric_key,
            required=spec.required,
        )
        Choice.objects.bulk_create(
            Choice(question=question, order=order, value=c.value, label=c.label, score=c.score)
            for order, c in enumerate(spec.choices, start=1)
        )
        questions.append(question)
    ensure_metrics_for_questions(questions)


def ensure_logins(manager_store: OrgUnit) -> list[Login]:
    """Demo staff users; a new user's password is "demo-<username>" in development (DEBUG)
    and a random one printed once otherwise, so no deployment gets a guessable superuser.
    An existing user's password is left alone and reported only while it is the demo one."""
    user_model = get_user_model()
    logins = []
    for username, group_name in LOGINS:
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={
                "is_staff": True,
                "is_superuser": username == "admin",
                "email": f"{username}@northwind.example",
            },
        )
        password = f"demo-{username}" if settings.DEVELOPMENT else secrets.token_urlsafe(18)
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        elif not user.check_password(password):
            password = ""
        if group_name:
            user.groups.add(Group.objects.get_or_create(name=group_name)[0])
        if username == "manager":
            user.managed_units.add(manager_store)
        role = group_name or ("superuser" if username == "admin" else "store manager")
        logins.append(Login(username, password, role))
    return logins


@dataclass(frozen=True)
class _RowMaker:
    """Turns generated respondents into `import_responses` rows."""

    units: dict[str, OrgUnit]
    now: datetime
    zone: tzinfo

    def rows(self, item: StoreMonth, kind: str) -> list[dict[str, Any]]:
        respondents = item.customers if kind == "customer" else item.employees
        letter = kind[0]  # "c" or "e" keeps the two surveys' external ids apart
        return [
            {
                "unit": self.units[item.store.code],
                "answers": respondent["answers"],
                "segment": respondent.get("segment", {}),
                "respondent_key": respondent.get("respondent_key", ""),
                "submitted_at": moment_in(item.period, respondent["moment"], self.now, self.zone),
                "external_id": f"demo-{item.store.code}-{item.period}-{letter}{number:03d}",
                "language": "en",
            }
            for number, respondent in enumerate(respondents)
        ]


def _seed_responses(
    generated: list[StoreMonth],
    surveys: dict[str, Survey],
    maker: _RowMaker,
    report: "SeedReport",
    progress: ProgressCallback | None,
) -> None:
    """One all-or-nothing import per survey and month, for store-months not yet seeded."""
    steps = [(kind, period) for kind in ("customer", "employee") for period in report.periods]
    for done, (kind, period) in enumerate(steps, start=1):
        survey = surveys[kind]
        if survey.is_confidential and period_released(survey, period):
            continue  # a released wave takes no more imported answers
        seeded = set(
            Response.objects.filter(survey=survey, period=period)
            .values_list("unit__code", flat=True)
            .distinct()
        )
        rows = [
            row
            for item in generated
            if item.period == period and item.store.code not in seeded
            for row in maker.rows(item, kind)
        ]
        if rows:
            _claim_score_cell(survey, period)
        for first in range(0, len(rows), MAX_IMPORT_ROWS):
            _import(survey, rows[first : first + MAX_IMPORT_ROWS], report)
        if progress:
            progress("answers", done, len(steps))


def _claim_score_cell(survey: Survey, period: str) -> None:
    """Hold the cell's recompute, so each import does not start one of its own: the seeder
    recomputes everything once at the end (a hold left behind by a crash expires)."""
    hold_recompute(survey_id=survey.pk, period=period)


def _import(survey: Survey, rows: list[dict[str, Any]], report: SeedReport) -> None:
    try:
        result = import_responses(survey=survey, rows=rows, allow_closed=True)
    except BulkInvalid as error:
        index, problems = next(iter(error.errors.items()))
        raise DemoError(f"{survey.slug}: generated row {index} refused: {problems}") from error
    report.responses += result.responses
    report.answers += result.answers


def _seed_outcomes(generated: list[StoreMonth], codes: list[str], labels: list[str]) -> int:
    """Revenue and retention for store-months without them, through the CSV import."""
    ensure_metrics(OUTCOME_KEYS)
    stored = set(
        MetricValue.objects.filter(
            metric__key=OUTCOME_KEYS[0], unit__code__in=codes, period__in=labels
        ).values_list("unit__code", "period")
    )
    missing = [item for item in generated if (item.store.code, item.period) not in stored]
    if not missing:
        return 0
    record = import_outcome_file(lines=io.StringIO(outcome_csv(missing)), file_name=OUTCOME_FILE)
    if record.status != OutcomeImport.Status.APPLIED:
        raise DemoError(f"Outcome import refused: {record.errors[:3]}")
    return record.lines_written


def wipe_demo() -> None:
    """Delete the demo's surveys (with answers), units (with values), imports, initiatives
    and logins."""
    slugs = [CUSTOMER_SURVEY[0], EMPLOYEE_SURVEY[0]]
    company = OrgUnit.objects.filter(code=COMPANY[0]).first()
    try:
        with transaction.atomic():
            wipe_distribution()
            Response.objects.filter(survey__slug__in=slugs).delete()
            Survey.objects.filter(slug__in=slugs).delete()
            OutcomeImport.objects.filter(file_name=OUTCOME_FILE).delete()
            Initiative.objects.filter(title__in=[idea.title for idea in IDEAS]).delete()
            get_user_model().objects.filter(username__in=[name for name, _ in LOGINS]).delete()
            if company is not None:
                subtree = company.subtree()
                for depth in sorted(set(subtree.values_list("depth", flat=True)), reverse=True):
                    subtree.filter(depth=depth).delete()
    except ProtectedError as error:
        blockers = sorted({str(item) for item in error.protected_objects})[:3]
        raise DemoError(f"Demo data is still referred to by: {', '.join(blockers)}") from error
