"""Linkage runs: start one (validated, queued after commit) and compute it in a worker.

A run correlates every ordered pair of its metrics (X earlier in the chain than Y) at lags
−max_lag … +max_lag over the units of one org level, stores one LinkageResult per pair and
lag, the key drivers of the last chain-stage metric, and then updates the results chain.
Results are written all-or-nothing; a failure stores its message on the run. A run whose
task never reached the broker stays pending and is queued again by a periodic sweep; so is a
running run whose worker was lost (killed, or the task gave up after its retries), at most
MAX_REQUEUES times, after which it is marked failed with a message saying what to do.
"""

import dataclasses
import logging
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.contrib.auth.models import User
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from surveys import periods as period_labels
from surveys.models import Metric, OrgUnit, Question
from surveys.selectors import (
    MetricPanel,
    metric_keys_with_values,
    metric_value_panel,
    metric_values_snapshot_at,
    periods_with_values,
)
from surveys.visibility import SYSTEM, Reader

from ..exceptions import InvalidLinkageRun
from ..models import LinkageResult, LinkageRun
from ..stats import (
    FEW_UNITS,
    LinkageStat,
    benjamini_hochberg,
    key_drivers,
    linkage_stats,
    sample_size_note,
)
from ..stats.clustered import lagged_within_cluster
from ..stats.drivers import key_driver_verdict
from ..tasks import run_linkage_task
from .chain import MAX_LAG, ensure_default_chain, update_chain_evidence

logger = logging.getLogger(__name__)

MAX_PERIODS = 240  # twenty years of months: a larger range is a typo, not an analysis
KEY_DRIVER_LAG = 1
PROGRESS_STARTED, PROGRESS_LOADED, PROGRESS_COMPUTED = 5, 30, 80
# A run still pending this long after it was started never reached a worker: queue it again.
STALLED_AFTER = timedelta(minutes=10)
# A running run not updated for this long lost its worker (killed, or the task gave up after
# its retries): far beyond the task's time limit (CELERY_TASK_TIME_LIMIT) and retry back-off.
RUNNING_LOST_AFTER = timedelta(minutes=30)
# Times a lost run is queued again before it is marked failed.
MAX_REQUEUES = 2
LOST_RUN_ERROR = (
    "The computation stopped {times} times without finishing: its worker was stopped or the "
    "database could not be reached. Start the run again; if it stops again, ask an "
    "administrator to check the workers."
)
# Errors worth a retry by the task (connection lost, database locked): not stored as failure.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
Status = LinkageRun.Status
# LinkageStat floats stored on LinkageResult under the same names.
STAT_FIELDS = (
    *("r", "r_low", "r_high", "p", "spearman", "spearman_p", "within_r", "within_p"),
    *("between_r", "between_p", "slope_within", "slope_within_low", "slope_within_high", "q"),
    "within_q",
)


@dataclass(frozen=True)
class RunSettings:
    """Validated settings of a run, defaults filled in."""

    level: str
    first_period: str
    last_period: str
    metric_keys: list[str]
    max_lag: int


# ------------------------------------------------------------------ starting a run


def _check_metric_keys(keys: Sequence[str] | None, level: str, errors: dict) -> list[str]:
    """Known keys in chain order (default: every metric with values at `level`)."""
    if keys is None:
        chosen = metric_keys_with_values(level=level)
        if len(chosen) < 2:
            errors["metric_keys"] = [f"Fewer than two metrics have values at {level} level."]
        return chosen
    wanted = list(dict.fromkeys(key.strip() for key in keys if key and key.strip()))
    metrics = {metric.key: metric for metric in Metric.objects.filter(key__in=wanted)}
    unknown = [key for key in wanted if key not in metrics]
    if unknown:
        errors["metric_keys"] = [f"Unknown metric key(s): {', '.join(unknown)}."]
    elif len(wanted) < 2:
        errors["metric_keys"] = ["Choose at least two metrics."]
    # Chain order; metrics of one stage keep the order they were given in.
    return sorted(metrics, key=lambda key: (metrics[key].chain_stage, wanted.index(key)))


def _check_period(label: str | None, field: str, errors: dict) -> str | None:
    if not label:
        return None
    try:
        period_labels.check_label(label)
    except period_labels.PeriodError as error:
        errors[field] = [str(error)]
        return None
    return label


def _default_range(
    keys: list[str], level: str, first: str | None, last: str | None
) -> tuple[str | None, str | None]:
    """Fill a missing end of the range with the first/last period that has values."""
    given = first or last
    granularity = period_labels.granularity_of(given) if given else None
    available = [
        label
        for label in periods_with_values(metric_keys=keys, level=level)
        if granularity is None or period_labels.granularity_of(label) == granularity
    ]
    available.sort(key=period_labels.index_of)
    if not available or len({period_labels.granularity_of(label) for label in available}) > 1:
        return first, last  # no data, or months and quarters mixed: the leader must choose
    return first or available[0], last or available[-1]


def _check_range(first: str | None, last: str | None, errors: dict) -> None:
    if first is None or last is None:
        errors.setdefault(
            "first_period", ["No period range: choose the first and last period (e.g. 2026-01)."]
        )
        return
    if period_labels.granularity_of(first) != period_labels.granularity_of(last):
        errors["last_period"] = ["First and last period must both be months or both quarters."]
    elif period_labels.index_of(last) < period_labels.index_of(first):
        errors["last_period"] = [f"The last period {last} is before the first period {first}."]
    elif period_labels.index_of(last) - period_labels.index_of(first) >= MAX_PERIODS:
        errors["last_period"] = [f"A run covers at most {MAX_PERIODS} periods."]


def _check_data_in_range(keys: list[str], level: str, first: str, last: str, errors: dict):
    """Refuse a range without values: its empty results would overwrite the chain's evidence."""
    wanted = set(period_labels.period_range(first, last))
    if not wanted.intersection(periods_with_values(metric_keys=keys, level=level)):
        errors["first_period"] = [
            f"None of these metrics has values at {level} level from {first} to {last}."
        ]


def check_linkage_run(
    *,
    level: str,
    first_period: str | None,
    last_period: str | None,
    metric_keys: Sequence[str] | None,
    max_lag: int,
) -> RunSettings:
    """Validate the settings of a run and fill in defaults; raise InvalidLinkageRun."""
    errors: dict[str, list[str]] = {}
    if level not in OrgUnit.Level.values:
        errors["level"] = [
            f"Unknown level '{level}'; use one of {', '.join(OrgUnit.Level.values)}."
        ]
    if isinstance(max_lag, bool) or not isinstance(max_lag, int) or not 0 <= max_lag <= MAX_LAG:
        errors["max_lag"] = [f"The maximum lag must be a whole number from 0 to {MAX_LAG}."]
    if errors:
        raise InvalidLinkageRun(errors)
    keys = _check_metric_keys(metric_keys, level, errors)
    first = _check_period(first_period, "first_period", errors)
    last = _check_period(last_period, "last_period", errors)
    if not errors:
        first, last = _default_range(keys, level, first, last)
        _check_range(first, last, errors)
    if not errors and first and last:
        _check_data_in_range(keys, level, first, last, errors)
    if errors or not first or not last:
        raise InvalidLinkageRun(errors or {"first_period": ["There is no data at this level."]})
    return RunSettings(level, first, last, keys, max_lag)


@transaction.atomic
def start_linkage_run(
    *,
    created_by: User | None,
    level: str = OrgUnit.Level.STORE,
    first_period: str | None = None,
    last_period: str | None = None,
    metric_keys: Sequence[str] | None = None,
    max_lag: int = 1,
    enqueue: bool = True,
) -> LinkageRun:
    """Create a pending linkage run and queue its computation after commit.

    Defaults: every metric with values at `level` (chain order) and every period with
    values. Raises InvalidLinkageRun naming the bad fields; nothing is written then.
    `enqueue=False` leaves the computation to the caller (the synchronous CLI).
    """
    settings = check_linkage_run(
        level=level,
        first_period=first_period,
        last_period=last_period,
        metric_keys=metric_keys,
        max_lag=max_lag,
    )
    run = LinkageRun.objects.create(
        created_by=created_by if getattr(created_by, "pk", None) else None,
        level=settings.level,
        first_period=settings.first_period,
        last_period=settings.last_period,
        metric_keys=settings.metric_keys,
        max_lag=settings.max_lag,
        status=Status.PENDING,
    )
    if enqueue:
        # Robust: a run that could not be queued stays pending for the stalled-run sweep.
        transaction.on_commit(lambda: queue_linkage_run(run.id), robust=True)
    return run


def queue_linkage_run(run_id: int) -> bool:
    """Send the run's task; with the broker unreachable the run stays pending for the sweep.

    The run is committed by then, so a lost broker must not turn the leader's request into a
    server error: `requeue_stalled_linkage_runs` queues it again once the broker is back.
    """
    try:
        run_linkage_task.delay(run_id)
    except Exception:  # broker down, or (eager) a transient database error in the run itself
        if run_linkage_task.app.conf.task_always_eager:
            logger.exception("Linkage run %s could not be computed", run_id)
        else:
            logger.warning("Could not queue linkage run %s", run_id, exc_info=True)
        return False
    return True


def requeue_stalled_linkage_runs() -> int:
    """Queue again runs pending for STALLED_AFTER without a worker claiming them, and running
    runs whose worker was lost (not updated for RUNNING_LOST_AFTER); a lost run already
    queued again MAX_REQUEUES times is marked failed instead. Returns the runs queued.

    A duplicate delivery is harmless: the first worker to claim a run computes it and the
    task returns quietly for a run that is already done.
    """
    now = timezone.now()
    stalled = LinkageRun.objects.filter(
        status=Status.PENDING, started_at__isnull=True, created_at__lt=now - STALLED_AFTER
    )
    run_ids = list(stalled.order_by("created_at").values_list("pk", flat=True)[:100])
    run_ids += _requeue_lost_runs(now)
    for run_id in run_ids:
        queue_linkage_run(run_id)
    return len(run_ids)


def _requeue_lost_runs(now: datetime) -> list[int]:
    """Fail lost runs already queued again MAX_REQUEUES times; count a requeue on the others
    and return their ids. Conditional UPDATEs, so overlapping sweeps count each loss once."""
    lost = LinkageRun.objects.filter(status=Status.RUNNING, updated_at__lt=now - RUNNING_LOST_AFTER)
    for run in lost.filter(requeues__gte=MAX_REQUEUES).only("pk", "requeues"):
        times = run.requeues + 1
        logger.error("Linkage run %s lost its worker %s times: marked failed", run.pk, times)
        lost.filter(pk=run.pk).update(
            status=Status.FAILED,
            error=LOST_RUN_ERROR.format(times=times),
            finished_at=now,
            updated_at=now,
        )
    again = lost.filter(requeues__lt=MAX_REQUEUES)
    run_ids = list(again.order_by("updated_at").values_list("pk", flat=True)[:100])
    return [
        run_id
        for run_id in run_ids
        if again.filter(pk=run_id).update(requeues=F("requeues") + 1, updated_at=now)
    ]


# ------------------------------------------------------------------ computing a run


def run_panel(run: LinkageRun, *, reader: Reader) -> MetricPanel:
    """The run's metrics × units × periods values as stored now (suppressed cells NaN), for
    the units `reader` may read (SYSTEM when computing the run)."""
    return metric_value_panel(
        metric_keys=list(run.metric_keys),
        level=run.level,
        periods=period_labels.period_range(run.first_period, run.last_period),
        reader=reader,
    )


def _claim_run(run_id: int) -> LinkageRun | None:
    """Mark a pending (or interrupted running) run as running; None if gone or finished."""
    with transaction.atomic():
        run = (
            LinkageRun.objects.select_for_update()
            .filter(pk=run_id, status__in=[Status.PENDING, Status.RUNNING])
            .first()
        )
        if run is None:
            return None
        run.status, run.progress, run.error = Status.RUNNING, PROGRESS_STARTED, ""
        run.started_at = timezone.now()
        run.save(update_fields=["status", "progress", "error", "started_at", "updated_at"])
    return run


def _set_progress(run_id: int, percent: int) -> None:
    # updated_at is the run's heartbeat: the sweep presumes a run not updated for a while lost.
    runs = LinkageRun.objects.filter(pk=run_id, status=Status.RUNNING)
    runs.update(progress=percent, updated_at=timezone.now())


def _mark_failed(run_id: int, error: Exception) -> None:
    LinkageRun.objects.filter(pk=run_id).update(
        status=Status.FAILED,
        error=f"{type(error).__name__}: {error}"[:2000],
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def compute_linkage_run(run_id: int) -> None:
    """Compute a pending run: panel, lagged statistics, key drivers, then the chain evidence.

    Returns quietly when the run is gone or already done/failed (safe to retry). Transient
    database errors propagate so the task retries; any other error marks the run failed
    with its message. Results, run summary and chain updates are written in one transaction.
    """
    run = _claim_run(run_id)
    if run is None:
        return
    try:
        snapshot_at = metric_values_snapshot_at(
            metric_keys=run.metric_keys,
            level=run.level,
            periods=period_labels.period_range(run.first_period, run.last_period),
        )
        panel = run_panel(run, reader=SYSTEM)
        _set_progress(run.id, PROGRESS_LOADED)
        statistics = _run_statistics(run, panel)
        _set_progress(run.id, PROGRESS_COMPUTED)
        _store_results(run, panel, statistics, snapshot_at or timezone.now())
    except TRANSIENT_ERRORS:
        raise
    except Exception as error:
        logger.exception("linkage run %s failed", run_id)
        _mark_failed(run_id, error)


def metric_pairs(count: int) -> list[tuple[int, int]]:
    """Every (x, y) index pair with x earlier in chain order than y."""
    return [(x, y) for x in range(count) for y in range(x + 1, count)]


@dataclass(frozen=True)
class RunStatistics:
    stats: list[LinkageStat]
    key_drivers: dict[str, Any]


def _run_statistics(run: LinkageRun, panel: MetricPanel) -> RunStatistics:
    """Lagged linkage statistics of every pair, and key drivers, with the run's seed."""
    rng = np.random.default_rng(run.seed)
    stats = linkage_stats(
        panel.values,
        metric_pairs(len(panel.metric_keys)),
        range(-run.max_lag, run.max_lag + 1),
        rng=rng,
    )
    stats = within_unit_verdicts(panel, stats, same_survey_pairs(panel.metric_keys))
    return RunStatistics(stats, run_key_drivers(panel, seed=run.seed))


def same_survey_pairs(metric_keys: Sequence[str]) -> set[tuple[int, int]]:
    """Index pairs of metrics answered in one survey (the same respondents at the same time):
    their within-unit link is shared measurement (halo, mood on the day), not a chain."""
    surveys: dict[str, set[int]] = {key: set() for key in metric_keys}
    for key, survey_id in Question.objects.filter(metric_key__in=list(metric_keys)).values_list(
        "metric_key", "survey_id"
    ):
        surveys[key].add(survey_id)
    return {
        (x, y)
        for x, y in metric_pairs(len(metric_keys))
        if surveys[metric_keys[x]] & surveys[metric_keys[y]]
    }


def within_unit_verdicts(
    panel: MetricPanel, stats: list[LinkageStat], same_survey: set[tuple[int, int]]
) -> list[LinkageStat]:
    """Within-unit p and slope limits replaced by the cluster-robust (by unit) ones, and
    within_q recomputed by Benjamini–Hochberg over the pairs from different surveys only.

    Same-survey pairs keep their p but get no q and the warning "same_survey": reported,
    flagged, outside the family that decides chain links (a link needs q < 0.05).
    """
    by_lag: dict[int, list[int]] = defaultdict(list)
    for index, stat in enumerate(stats):
        by_lag[stat.lag].append(index)
    updated = list(stats)
    for lag, indexes in by_lag.items():
        x = [stats[index].x_index for index in indexes]
        y = [stats[index].y_index for index in indexes]
        cell, low, high = lagged_within_cluster(panel.values, x, y, lag)
        for position, index in enumerate(indexes):
            updated[index] = dataclasses.replace(
                stats[index],
                within_p=float(cell.p[position]),
                slope_within_low=float(low[position]),
                slope_within_high=float(high[position]),
            )
    family = np.array([(s.x_index, s.y_index) not in same_survey for s in updated])
    within_p = np.array([s.within_p for s in updated], dtype=float)
    within_q = np.full(len(updated), np.nan)
    if family.any():
        within_q[family] = benjamini_hochberg(within_p[family])
    return [
        dataclasses.replace(
            stat,
            within_q=float(within_q[index]),
            warnings=stat.warnings + (() if family[index] else ("same_survey",)),
        )
        for index, stat in enumerate(updated)
    ]


def unit_means(values: np.ndarray, window: slice) -> np.ndarray:
    """Mean of each unit's present cells in a window of periods (last axis); NaN if none."""
    part = values[..., window]
    present = np.isfinite(part)
    count = present.sum(axis=-1)
    total = np.where(present, part, 0.0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def run_key_drivers(panel: MetricPanel, *, seed: int = 0) -> dict[str, Any]:
    """Key drivers of the last metric among the earlier ones, between units, at lag 1.

    Rows are units: driver = a unit's mean over periods 1..T−1, outcome = its mean over
    periods 2..T (one period later). Between units: it says which stores with higher drivers
    have a higher outcome, not what moves when a store changes. Weights are Shapley (LMG)
    weights signed by the full model's standardised coefficients, with unit-bootstrap 95 %
    limits (`key_driver_verdict`); "reliable" needs the model's F test p < 0.05 and at least
    10 units per driver, otherwise the page says there are no reliable drivers.
    """
    count, periods = len(panel.metric_keys), len(panel.periods)
    if count < 2:
        return {}
    drivers = unit_means(panel.values[:-1], slice(0, max(periods - KEY_DRIVER_LAG, 0)))
    outcome = unit_means(panel.values[-1], slice(KEY_DRIVER_LAG, periods))
    result = key_drivers(drivers.T, outcome)
    verdict = key_driver_verdict(drivers.T, outcome, rng=np.random.default_rng(seed))
    fit = verdict.fit
    return {
        "outcome": panel.metric_keys[-1],
        "lag": KEY_DRIVER_LAG,
        "design": "between",
        "n": result.n,
        "r_squared": finite_or_none(result.r_squared),
        "adjusted_r_squared": finite_or_none(fit.adjusted_r_squared),
        "f_statistic": finite_or_none(fit.f_statistic),
        "f_df": [fit.df_model, fit.df_resid],
        "f_p": finite_or_none(fit.p_value),
        "units_per_driver": finite_or_none(verdict.units_per_driver),
        "reliable": verdict.reliable,
        "reasons": list(verdict.reasons),
        "drivers": [
            {
                "metric": key,
                "shapley": finite_or_none(result.shapley[index]),
                "johnson": finite_or_none(result.johnson[index]),
                "share_shapley": finite_or_none(result.shares_shapley[index]),
                "share_johnson": finite_or_none(result.shares_johnson[index]),
                "weight": finite_or_none(verdict.weights[index]),
                "weight_low": finite_or_none(verdict.weights_low[index]),
                "weight_high": finite_or_none(verdict.weights_high[index]),
            }
            for index, key in enumerate(panel.metric_keys[:-1])
        ],
        "warnings": list(verdict.warnings),
    }


def finite_or_none(value: float | None) -> float | None:
    """A float for storage: NaN and infinities become None (JSON and SQL have no NaN)."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _result_row(run: LinkageRun, stat: LinkageStat, metric_ids: list[int], snapshot_at):
    return LinkageResult(
        run=run,
        x_metric_id=metric_ids[stat.x_index],
        y_metric_id=metric_ids[stat.y_index],
        lag=stat.lag,
        n_pairs=stat.n_pairs,
        n_units=stat.n_units,
        warnings=list(stat.warnings),
        snapshot_at=snapshot_at,
        **{name: finite_or_none(getattr(stat, name)) for name in STAT_FIELDS},
    )


def run_warnings(*, level: str, n_units: int, excluded_cells: int) -> list[str]:
    """Run-level warnings shown above the results: small n, left-out cells, sample size."""
    warnings = []
    if n_units < FEW_UNITS:
        warnings.append(
            f"Small sample: only {n_units} {level} unit(s) have data; "
            f"at least {FEW_UNITS} are needed for a verdict on a link."
        )
    if excluded_cells:
        warnings.append(
            f"{excluded_cells} suppressed cell(s) (groups below the anonymity threshold) "
            "were left out."
        )
    warnings.append(sample_size_note(n_units))
    return warnings


def _store_results(
    run: LinkageRun, panel: MetricPanel, statistics: RunStatistics, snapshot_at: datetime
) -> None:
    """Replace the run's results, finish the run and update the chain, all in one transaction."""
    metric_ids = dict(Metric.objects.filter(key__in=panel.metric_keys).values_list("key", "id"))
    ids = [metric_ids[key] for key in panel.metric_keys]
    n_units = int(np.isfinite(panel.values).any(axis=(0, 2)).sum())
    excluded = int(panel.suppressed.sum())
    with transaction.atomic():
        locked = LinkageRun.objects.select_for_update().filter(pk=run.pk).first()
        if locked is None or locked.status != Status.RUNNING:
            return  # deleted meanwhile, or finished by a duplicate delivery
        LinkageResult.objects.filter(run=locked).delete()
        LinkageResult.objects.bulk_create(
            [_result_row(locked, stat, ids, snapshot_at) for stat in statistics.stats]
        )
        locked.status, locked.progress, locked.finished_at = Status.DONE, 100, timezone.now()
        locked.data_snapshot_at, locked.n_units, locked.excluded_cells = (
            snapshot_at,
            n_units,
            excluded,
        )
        locked.warnings = run_warnings(level=locked.level, n_units=n_units, excluded_cells=excluded)
        locked.key_drivers = statistics.key_drivers
        locked.save()
        ensure_default_chain()
        update_chain_evidence(locked)
