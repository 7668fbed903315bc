"""Import of business outcomes (revenue, retention …) from CSV, with roll-up to parent units.

The file has the header `unit_code,period,metric_key,value`, one value per line, and may add
a fifth column `denominator`: what a mean or rate is taken over (customers for a retention
rate, orders for an average basket). Every line is checked against units and metrics loaded
once; by default one bad line refuses the whole file, so an import is either fully applied
or leaves the data untouched.

How parents are rolled up follows the metric's aggregation: a sum (revenue, counts) adds its
children; a mean or rate is the mean weighted by the children's denominators when every
child has one (company retention = Σ(rate × customers) / Σ customers), else by the number of
units with their own value under each child — never an unweighted mean of region means.
The denominator is optional (a file without it keeps the unit weighting), but one import
gives it for every line of a metric or for none, since a mix would weight some stores by
customers and others by one; a sum metric takes none.
"""

import csv
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, F, FloatField, Max, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from surveys.catalogue import KNOWN_METRICS
from surveys.models import Metric, MetricValue, OrgUnit
from surveys.periods import PeriodError, check_label, granularity_of
from surveys.services.metrics import ensure_metrics

from ..models import OutcomeImport

HEADER = ("unit_code", "period", "metric_key", "value")
DENOMINATOR = "denominator"  # the optional fifth column
MAX_STORED_ERRORS = 1000
PROGRESS_EVERY = 1000
METRIC_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
# Largest accepted |value|: ten trillion covers any revenue in any currency, and sums of it
# over every unit of any organisation stay far from overflowing a float (1e308).
MAX_VALUE = 1e13
ROLL_UP_AGGREGATIONS = {Metric.Aggregation.SUM, Metric.Aggregation.MEAN, Metric.Aggregation.RATE}
_UPSERT_FIELDS = [
    "value",
    "n",
    "ci_low",
    "ci_high",
    "suppressed",
    "source",
    "details",
    "computed_at",
]

IMPORTED = MetricValue.Source.IMPORTED
SUM = Metric.Aggregation.SUM
ROLLED_UP_FROM = "rolled_up_from"
WEIGHTED_AGGREGATIONS = {Metric.Aggregation.MEAN, Metric.Aggregation.RATE}
Lines = Iterable[str | bytes]


class _GoodLine(NamedTuple):
    unit_id: int
    period: str
    metric_key: str
    value: float
    denominator: float | None = None


Cell = tuple[int, int, str]  # metric id, unit id, period


@dataclass(frozen=True)
class _Content:
    """What an imported value stores; `rolled_up_from` > 0 marks a roll-up of children."""

    value: float
    rolled_up_from: int = 0
    weight: int = 0  # a roll-up's n: the leaf values (units with their own value) under it
    denominator: float | None = None  # a mean's or rate's base (customers, orders …)

    def fields(self) -> dict[str, Any]:
        details: dict[str, Any] = (
            {ROLLED_UP_FROM: self.rolled_up_from} if self.rolled_up_from else {}
        )
        if self.denominator is not None:
            details[DENOMINATOR] = self.denominator
        return {"value": self.value, "n": self.n, "source": IMPORTED, "details": details}

    @property
    def n(self) -> int:
        return self.weight or self.rolled_up_from or 1

    def signature(self) -> tuple[float, int, str, bool, float | None]:
        """Comparable with the stored (value, n, source, is roll-up, denominator) of `_upsert`."""
        return (self.value, self.n, IMPORTED, bool(self.rolled_up_from), self.denominator)


@dataclass(frozen=True)
class OutcomeRow:
    """One value to import; `position` names it in messages: its line in a file (the header
    is line 1) or its index in a list of rows."""

    position: int
    unit_code: str
    period: str
    metric_key: str
    value: str | float
    denominator: str | float | None = None  # empty or None: no denominator


@dataclass
class OutcomeFile:
    """The rows read from an outcome CSV, and the lines that could not be read as rows."""

    rows: list[OutcomeRow] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    header_ok: bool = False
    data_lines: int = 0
    columns: tuple[str, ...] = HEADER  # the header's columns (with or without denominator)


@dataclass
class _Checked:
    good: list[_GoodLine] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


def import_outcome_file(
    *,
    lines: Lines,
    skip_bad: bool = False,
    create_metrics: bool = False,
    uploaded_by: User | None = None,
    file_name: str = "",
    progress: Callable[[int], object] | None = None,
) -> OutcomeImport:
    """Read an outcome CSV (`read_outcome_csv`) and import its rows (`import_outcomes`).

    Problems carry 1-based line numbers (the header is line 1). `progress(n)` is called as
    lines are read.
    """
    read = read_outcome_csv(lines, progress=progress)
    return import_outcomes(
        rows=read.rows,
        skip_bad=skip_bad,
        create_metrics=create_metrics,
        uploaded_by=uploaded_by,
        file_name=file_name,
        problems=read.problems,
        total=read.data_lines,
        refuse=not read.header_ok,
    )


def import_outcomes(
    *,
    rows: Iterable[OutcomeRow],
    skip_bad: bool = False,
    create_metrics: bool = False,
    uploaded_by: User | None = None,
    file_name: str = "",
    position: str = "line",
    problems: Iterable[dict[str, Any]] = (),
    total: int | None = None,
    refuse: bool = False,
) -> OutcomeImport:
    """Check every row against units and metrics, write the values and record the import.

    Values are upserted into MetricValue (source imported), with their denominator in
    `details`, so re-importing changes nothing. Ancestor units without a value of their own
    then get one rolled up from their children in SQL: SUM for `sum` metrics; for
    `mean`/`rate` the children's mean weighted by their denominators when all have one (the
    parent keeps their sum as its denominator), else by the leaf values under each (so a
    company is the mean of its stores, not of its regions). Bad rows (unknown unit or
    metric, bad period, non-finite value, bad or misplaced denominator, duplicate) are
    recorded under `position` ("line" for a file, "item" for a list) with the rows'
    positions, after the `problems` found while reading. With any problem nothing is written
    (status refused) unless `skip_bad`, which writes the good rows (status partial);
    `refuse` refuses at once (e.g. a file without its header). `create_metrics` adds
    unknown metric keys as outcome metrics (aggregation from the catalogue when known, else
    mean). Returns the saved OutcomeImport.
    """
    rows = list(rows)
    checked = _check_rows(rows, create_metrics=create_metrics, position=position)
    errors = [*problems, *checked.errors]
    refused = refuse or bool(errors and not skip_bad)
    with transaction.atomic():
        written = 0 if refused else _apply(checked.good, create_metrics=create_metrics)
        if refused:
            status = OutcomeImport.Status.REFUSED
        else:
            status = OutcomeImport.Status.PARTIAL if errors else OutcomeImport.Status.APPLIED
        return OutcomeImport.objects.create(
            file_name=file_name[:255],
            uploaded_by=uploaded_by,
            status=status,
            lines_total=len(rows) if total is None else total,
            lines_written=written,
            errors=_errors_to_store(errors),
        )


def read_outcome_csv(
    lines: Lines, *, progress: Callable[[int], object] | None = None
) -> OutcomeFile:
    """Rows of an outcome CSV (header `unit_code,period,metric_key,value`, optionally
    `,denominator`), any iterable of text or bytes lines (an open file, an upload, a list);
    lines that are not UTF-8, hold a NUL character or have a different number of columns
    than the header become problems with their line."""
    read = OutcomeFile()
    number = 0
    for number, raw in enumerate(lines, start=1):
        if progress and number % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
        fields = _fields(number, raw, read)
        if fields is None:
            continue
        if number == 1:
            read.header_ok = _check_header(fields, read)
        elif any(fields):
            read.data_lines += 1
            _add_row(number, fields, read)
    if progress and number % PROGRESS_EVERY:
        progress(number % PROGRESS_EVERY)
    if number == 0:
        read.problems.append(_problem("line", 1, EMPTY_FILE))
    return read


EMPTY_FILE = f"the file is empty; expected the header {','.join(HEADER)}"


def _problem(position: str, number: int, message: str) -> dict[str, Any]:
    return {position: number, "message": message}


def _fields(number: int, raw: str | bytes, read: OutcomeFile) -> list[str] | None:
    try:
        text = (
            raw.decode("utf-8-sig" if number == 1 else "utf-8") if isinstance(raw, bytes) else raw
        )
    except UnicodeDecodeError:
        read.data_lines += number > 1  # a data line, even if unreadable, counts in the total
        read.problems.append(_problem("line", number, "not UTF-8 text"))
        return None
    if "\x00" in text:  # would end up in the stored messages, which JSON columns refuse
        read.problems.append(_problem("line", number, "the line contains a NUL character"))
        return None
    return [value.strip() for value in next(csv.reader([text.lstrip("\ufeff")]), [])]


def _add_row(number: int, fields: list[str], read: OutcomeFile) -> None:
    columns = read.columns
    if len(fields) != len(columns):
        kind = "missing" if len(fields) < len(columns) else "extra"
        expected = f"expected {len(columns)} ({','.join(columns)}), found {len(fields)}"
        read.problems.append(_problem("line", number, f"{kind} columns: {expected}"))
        return
    read.rows.append(OutcomeRow(number, *fields))


def _check_header(fields: list[str], read: OutcomeFile) -> bool:
    names = tuple(value.lower() for value in fields)
    if names in (HEADER, (*HEADER, DENOMINATOR)):
        read.columns = names
        return True
    message = f"bad header '{','.join(fields)}'; expected {','.join(HEADER)}[,{DENOMINATOR}]"
    read.problems.append(_problem("line", 1, message))
    return False


def _check_rows(rows: list[OutcomeRow], *, create_metrics: bool, position: str) -> _Checked:
    checker = _RowChecker(create_metrics=create_metrics, position=position)
    with_denominator: dict[str, int] = {}  # metric → first position giving a denominator
    for row in rows:
        if _given(row.denominator):
            with_denominator.setdefault(row.metric_key, row.position)
    checked = _Checked()
    for row in rows:
        problems = checker.problems(row)
        first = with_denominator.get(row.metric_key)
        if first is not None and not _given(row.denominator):
            problems.append(
                f"denominator is missing; {position} {first} gives one for metric "
                f"'{row.metric_key}' (all lines of a metric or none)"
            )
        for problem in problems:
            checked.errors.append(_problem(position, row.position, problem))
        if not problems:
            unit_id = checker.units[row.unit_code]
            denominator = _denominator_of(row)
            checked.good.append(
                _GoodLine(unit_id, row.period, row.metric_key, float(row.value), denominator)
            )
    return checked


def _given(denominator: str | float | None) -> bool:
    return denominator is not None and denominator != ""


def _denominator_of(row: OutcomeRow) -> float | None:
    return None if row.denominator is None or row.denominator == "" else float(row.denominator)


class _RowChecker:
    """Checks rows against units and metrics loaded once (no query per row)."""

    def __init__(self, *, create_metrics: bool, position: str) -> None:
        self.create_metrics = create_metrics
        self.position = position
        self.units = dict(OrgUnit.objects.values_list("code", "id"))
        self.metric_sources = dict(Metric.objects.values_list("key", "source"))
        self.aggregations = dict(Metric.objects.values_list("key", "aggregation"))
        self.first_row: dict[tuple[str, str, str], int] = {}
        self.metric_problems: dict[str, str] = {}
        # One period kind per metric: months and quarters mixed would not line up in a run.
        stored = MetricValue.objects.values_list("metric__key").annotate(sample=Max("period"))
        self.granularities = {key: granularity_of(sample) for key, sample in stored}

    def problems(self, row: OutcomeRow) -> list[str]:
        problems = [self._unit_problem(row.unit_code), _period_problem(row.period)]
        if row.metric_key not in self.metric_problems:
            self.metric_problems[row.metric_key] = self._metric_problem(row.metric_key)
        problems += [self.metric_problems[row.metric_key], _value_problem(row.value)]
        problems.append(self._denominator_problem(row))
        if not any(problems):
            cell = (row.unit_code, row.period, row.metric_key)
            first = self.first_row.setdefault(cell, row.position)
            if first != row.position:
                problems.append(
                    f"duplicate of {self.position} {first} (same unit, period and metric)"
                )
            problems.append(self._granularity_problem(row.metric_key, row.period))
        return [problem for problem in problems if problem]

    def _granularity_problem(self, key: str, period: str) -> str:
        kind = granularity_of(period)
        expected = self.granularities.setdefault(key, kind)
        if kind == expected:
            return ""
        return f"metric '{key}' is kept by {expected}, but '{period}' is a {kind}"

    def _denominator_problem(self, row: OutcomeRow) -> str:
        if row.denominator is None or row.denominator == "":
            return ""
        problem = _denominator_value_problem(row.denominator)
        if problem or self.metric_problems[row.metric_key]:
            return problem
        aggregation = self.aggregations.get(row.metric_key) or KNOWN_METRICS.get(
            row.metric_key, {}
        ).get("aggregation", Metric.Aggregation.MEAN)
        if aggregation not in WEIGHTED_AGGREGATIONS:
            return (
                f"metric '{row.metric_key}' is a {aggregation}, which takes no denominator "
                "(only means and rates are weighted)"
            )
        return ""

    def _unit_problem(self, code: str) -> str:
        return "" if code in self.units else f"unknown unit '{code}'"

    def _metric_problem(self, key: str) -> str:
        if key in self.metric_sources:
            source = self.metric_sources[key]
        elif not self.create_metrics:
            return f"unknown metric '{key}'"
        elif key in KNOWN_METRICS:
            source = KNOWN_METRICS[key].get("source", Metric.Source.SURVEY)
        elif METRIC_KEY.match(key) and len(key) <= 80:
            source = Metric.Source.OUTCOME
        else:
            return f"metric key '{key}' is not valid; use lowercase words and dots (outcome.sales)"
        if source == Metric.Source.SURVEY:
            return f"metric '{key}' is computed from survey answers, not imported"
        return ""


@lru_cache(maxsize=4096)  # a file repeats a handful of periods thousands of times
def _period_problem(label: str) -> str:
    try:
        check_label(label)
    except PeriodError as error:
        return str(error)
    return ""


def _value_problem(raw: str | float) -> str:
    if raw == "":
        return "value is missing"
    try:
        number = float(raw)
    except ValueError:
        return f"value '{raw}' is not a number"
    if not math.isfinite(number):
        return f"value '{raw}' is not a finite number"
    if abs(number) > MAX_VALUE:
        return f"value '{raw}' is outside ±{MAX_VALUE:g}"
    return ""


def _denominator_value_problem(raw: str | float) -> str:
    try:
        number = float(raw)
    except ValueError:
        return f"denominator '{raw}' is not a number"
    if not math.isfinite(number):
        return f"denominator '{raw}' is not a finite number"
    if number <= 0:
        return f"denominator '{raw}' must be greater than 0"
    if number > MAX_VALUE:
        return f"denominator '{raw}' is above {MAX_VALUE:g}"
    return ""


def _errors_to_store(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(errors) <= MAX_STORED_ERRORS:
        return errors
    more = len(errors) - MAX_STORED_ERRORS
    return [*errors[:MAX_STORED_ERRORS], {"line": None, "message": f"… and {more} more"}]


def _apply(good: list[_GoodLine], *, create_metrics: bool) -> int:
    """Write the good lines, then refresh roll-ups of the touched metrics and periods."""
    keys = {line.metric_key for line in good}
    if create_metrics:
        _create_outcome_metrics(keys)
    metric_ids = dict(Metric.objects.filter(key__in=keys).values_list("key", "id"))
    contents = {
        (metric_ids[line.metric_key], line.unit_id, line.period): _Content(
            line.value, denominator=line.denominator
        )
        for line in good
    }
    _upsert(contents)
    _roll_up(set(metric_ids.values()), {line.period for line in good})
    return len(good)


def _create_outcome_metrics(keys: set[str]) -> None:
    ensure_metrics(keys & KNOWN_METRICS.keys())
    existing = set(Metric.objects.filter(key__in=keys).values_list("key", flat=True))
    Metric.objects.bulk_create(
        [
            Metric(
                key=key,
                name=key.split(".", 1)[-1].replace("_", " ").capitalize(),
                source=Metric.Source.OUTCOME,
                aggregation=Metric.Aggregation.MEAN,
            )
            for key in sorted(keys - existing)
        ],
        ignore_conflicts=True,
    )


def _upsert(contents: dict[Cell, _Content], *, unit_ids: set[int] | None = None) -> int:
    """Insert or update values; rows already stored with the same content are not touched,
    so importing the same file twice leaves every row (and its timestamp) as it was."""
    if not contents:
        return 0
    stored = MetricValue.objects.filter(
        metric_id__in={metric_id for metric_id, _, _ in contents},
        period__in={period for _, _, period in contents},
    )
    if unit_ids is not None:
        stored = stored.filter(unit_id__in=unit_ids)
    # A flag instead of the JSON itself: decoding details for 100k rows costs seconds.
    rolled = ExpressionWrapper(Q(details__has_key=ROLLED_UP_FROM), output_field=BooleanField())
    rows = stored.annotate(rolled=rolled, denominator=_denominator()).values_list(
        "metric_id", "unit_id", "period", "value", "n", "source", "rolled", "denominator"
    )
    current = {row[:3]: row[3:] for row in rows.iterator(chunk_size=5000)}
    changed = [
        MetricValue(metric_id=cell[0], unit_id=cell[1], period=cell[2], **content.fields())
        for cell, content in contents.items()
        if current.get(cell) != content.signature()
    ]
    MetricValue.objects.bulk_create(
        changed,
        update_conflicts=True,
        unique_fields=["metric", "unit", "period"],
        update_fields=_UPSERT_FIELDS,
    )
    return len(changed)


def _denominator() -> Cast:
    """A stored value's denominator (None without one), read from `details` in SQL."""
    return Cast(KeyTextTransform(DENOMINATOR, "details"), FloatField())


def _roll_up(metric_ids: set[int], periods: set[str]) -> int:
    """Fill ancestors that have no value of their own, deepest level first, so a region's
    roll-up exists before the company's is computed from the regions."""
    aggregations = dict(
        Metric.objects.filter(pk__in=metric_ids, aggregation__in=ROLL_UP_AGGREGATIONS).values_list(
            "pk", "aggregation"
        )
    )
    if not aggregations or not periods:
        return 0
    deepest = OrgUnit.objects.aggregate(deepest=Max("depth"))["deepest"] or 0
    return sum(
        _roll_up_into_depth(depth, aggregations, periods) for depth in range(deepest - 1, 0, -1)
    )


def _roll_up_into_depth(depth: int, aggregations: dict[int, str], periods: set[str]) -> int:
    children = (
        MetricValue.objects.filter(
            metric_id__in=aggregations,
            period__in=periods,
            source=IMPORTED,
            value__isnull=False,
            unit__depth=depth + 1,
        )
        .values("metric_id", "unit__parent_id", "period")
        .annotate(
            total=Sum("value"),
            weighted=Sum(F("value") * F("n")),
            weight=Sum("n"),
            children=Count("id"),
            based=Count("id", filter=Q(details__has_key=DENOMINATOR)),
            base=Sum(_denominator()),
            weighted_by_base=Sum(F("value") * _denominator()),
        )
    )
    own_values = set(
        MetricValue.objects.filter(
            metric_id__in=aggregations, period__in=periods, unit__depth=depth
        )
        .exclude(source=IMPORTED, details__has_key=ROLLED_UP_FROM)
        .values_list("metric_id", "unit_id", "period")
    )
    contents: dict[Cell, _Content] = {
        (row["metric_id"], row["unit__parent_id"], row["period"]): _rolled_up(
            row, aggregations[row["metric_id"]]
        )
        for row in children
        if row["unit__parent_id"] is not None  # depth + 1 always has a parent; for the checker
    }
    for cell in own_values.intersection(contents):
        del contents[cell]
    return _upsert(contents, unit_ids={unit_id for _, unit_id, _ in contents})


def _rolled_up(row: dict[str, Any], aggregation: str) -> _Content:
    """A parent's value from its children's sums: a sum (revenue, counts) adds them; a mean
    or rate is weighted by the children's denominators when every child has one (retention
    = Σ(rate × customers) / Σ customers, the parent's denominator their sum), else by the
    leaf values under each child (its n), so the company is the mean over stores, never an
    unweighted mean of region means."""
    weight = int(row["weight"])
    if aggregation == SUM:
        return _Content(row["total"], rolled_up_from=row["children"], weight=weight)
    if row["based"] == row["children"] and row["base"]:
        value = row["weighted_by_base"] / row["base"]
        return _Content(value, row["children"], weight, denominator=row["base"])
    return _Content(row["weighted"] / weight, rolled_up_from=row["children"], weight=weight)


@transaction.atomic
def refresh_outcome_roll_ups() -> int:
    """Roll up every imported outcome again from its units' own values (after the tree
    changed): stale roll-ups are removed first, so a moved unit counts under its new parent
    only. Returns the number of roll-up rows written."""
    imported = MetricValue.objects.filter(source=IMPORTED)
    imported.filter(details__has_key=ROLLED_UP_FROM).delete()
    metric_ids = set(imported.values_list("metric_id", flat=True).distinct())
    periods = set(imported.values_list("period", flat=True).distinct())
    return _roll_up(metric_ids, periods)
