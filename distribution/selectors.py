"""Reads of distribution: response rates (with the anonymity threshold) and follow-up
cases (scoped to the reader's units), with their per-unit SLA figures."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone

from surveys.models import Invitation, OrgUnit, Survey
from surveys.visibility import Reader, scoped

from .models import FollowUpCase, WaveSchedule

SEGMENT = 9  # OrgUnit path characters per level (surveys.models.UNIT_PATH_SEGMENT)


@dataclass
class RateCell:
    invited: int
    answered: int | None  # None: hidden (below the threshold, or the wave still running)

    @property
    def rate(self) -> float | None:
        if self.answered is None or not self.invited:
            return None
        return 100.0 * self.answered / self.invited


@dataclass
class RateTable:
    """Rows: the chosen unit's groups (its child units, and the unit itself for invitations
    made to it directly), then the total; columns: surveys (waves), oldest first."""

    surveys: list[Survey]
    groups: list[tuple[str, str]]  # (key, label); key "" is the total
    cells: dict[tuple[str, int], RateCell] = field(default_factory=dict)
    hidden_note: bool = False

    def row(self, key: str) -> list[RateCell | None]:
        return [self.cells.get((key, survey.pk)) for survey in self.surveys]

    def rows(self) -> list[tuple[str, bool, list[tuple[RateCell | None, float | None]]]]:
        """(label, is total, [(cell, change of rate in points against the previous
        survey)]) per group, in display order."""
        result = []
        for key, label in self.groups:
            cells: list[tuple[RateCell | None, float | None]] = []
            previous: float | None = None
            for cell in self.row(key):
                rate = cell.rate if cell else None
                change: float | None = (
                    rate - previous if rate is not None and previous is not None else None
                )
                cells.append((cell, change))
                previous = rate
            result.append((label, key == "", cells))
        return result


def wave_surveys(schedule: WaveSchedule) -> list[Survey]:
    return [wave.survey for wave in schedule.waves.select_related("survey").order_by("number")]


def response_rates(*, surveys: list[Survey], unit: OrgUnit) -> RateTable:
    """Invited, answered and rate per group below `unit` and per survey, in one GROUP BY.

    Employee and anonymous surveys: answered counts only once the wave is closed (live
    counts would show who answered when), and only for groups with at least the survey's
    threshold of answers; when the hidden groups of a survey add up to fewer than the
    threshold, further groups are hidden, smallest first (complementary suppression), so
    no hidden count follows from the total by subtraction. The total itself obeys the same
    threshold. Invited counts (headcount) are shown.
    """
    depth = len(unit.path) + SEGMENT
    rows = (
        Invitation.objects.filter(survey__in=surveys, unit__path__startswith=unit.path)
        .annotate(group_path=Substr("unit__path", 1, depth))
        .values("survey_id", "group_path")
        .annotate(invited=Count("pk"), answered=Count("pk", filter=Q(used=True)))
        .order_by()
    )
    children = {child.path: child for child in OrgUnit.objects.filter(parent=unit).order_by("path")}
    groups = [(child.path, child.name) for child in children.values()]
    table = RateTable(surveys=surveys, groups=groups)
    counts: dict[int, dict[str, tuple[int, int]]] = {survey.pk: {} for survey in surveys}
    for row in rows:
        key = row["group_path"] if row["group_path"] in children else unit.path
        invited, answered = counts[row["survey_id"]].get(key, (0, 0))
        counts[row["survey_id"]][key] = (invited + row["invited"], answered + row["answered"])
    if any(unit.path in by_group for by_group in counts.values()):
        table.groups.append((unit.path, f"{unit.name} (directly)"))
    table.groups.append(("", f"{unit.name} — total"))
    for survey in surveys:
        _fill(table, survey, counts[survey.pk])
    return table


def _fill(table: RateTable, survey: Survey, counts: dict[str, tuple[int, int]]) -> None:
    total = (sum(i for i, _ in counts.values()), sum(a for _, a in counts.values()))
    if not survey.is_confidential:
        shown = {key: answered for key, (_, answered) in counts.items()}
        shown[""] = total[1]
    elif survey.status != Survey.Status.CLOSED:
        shown = {}
        table.hidden_note = True
    else:
        shown = _suppressed({key: a for key, (_, a) in counts.items()}, survey.anonymity_threshold)
        if total[1] >= survey.anonymity_threshold:
            shown[""] = total[1]
        table.hidden_note = table.hidden_note or len(shown) <= len(counts)
    for key, (invited, _) in [*counts.items(), ("", total)]:
        table.cells[(key, survey.pk)] = RateCell(invited=invited, answered=shown.get(key))


def _suppressed(answered: dict[str, int], threshold: int) -> dict[str, int]:
    """The groups whose answered count may be shown: primary suppression below `threshold`,
    then the smallest shown groups until the hidden ones hold none or at least `threshold`."""
    shown = {key: n for key, n in answered.items() if n >= threshold}
    hidden = sum(n for key, n in answered.items() if key not in shown)
    while 0 < hidden < threshold and shown:
        smallest = min(shown, key=lambda key: (shown[key], key))
        hidden += shown.pop(smallest)
    return shown


def cases_for(reader: Reader, *, status: str = "", overdue: bool = False) -> QuerySet:
    """Follow-up cases of the units the reader may read, most urgent first."""
    cases = scoped(FollowUpCase.objects.select_related("unit", "owner", "survey"), reader)
    if status == "active":
        cases = cases.exclude(status=FollowUpCase.Status.CLOSED)
    elif status in FollowUpCase.Status.values:
        cases = cases.filter(status=status)
    if overdue:
        cases = cases.exclude(status=FollowUpCase.Status.CLOSED).filter(due_at__lt=timezone.now())
    return cases.order_by("status", "due_at", "pk")


def cases_of_responses(reader: Reader, response_ids: list[int]) -> list[FollowUpCase]:
    """The follow-up cases opened by these responses that the reader may read (a customer's
    pathway shows them)."""
    return list(cases_for(reader, status="").filter(response_id__in=response_ids))


def case_figures(reader: Reader, *, now: datetime | None = None) -> list[dict]:
    """Per unit: cases, open, overdue, closed, closed within the SLA (share in %) and the
    mean time to close in hours, in one GROUP BY."""
    now = now or timezone.now()
    closed = Q(status=FollowUpCase.Status.CLOSED)
    duration = ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())
    rows = (
        scoped(FollowUpCase.objects.all(), reader)
        .values("unit__code", "unit__name")
        .annotate(
            cases=Count("pk"),
            open=Count("pk", filter=~closed),
            overdue=Count("pk", filter=~closed & Q(due_at__lt=now)),
            closed=Count("pk", filter=closed),
            within_sla=Count("pk", filter=closed & Q(closed_at__lte=F("due_at"))),
            mean_to_close=Avg(duration, filter=closed),
        )
        .order_by("unit__code")
    )
    figures = []
    for row in rows:
        mean = row["mean_to_close"]
        figures.append(
            {
                **row,
                "within_sla_share": 100.0 * row["within_sla"] / row["closed"]
                if row["closed"]
                else None,
                "mean_hours_to_close": mean.total_seconds() / 3600 if mean is not None else None,
            }
        )
    return figures
