"""A readable linkage review: the results chain as wrapping HTML (fits any width; every link
the run supports is shown), the pairs table sorted, filtered and paginated on the server,
one scatter at a time (Chart.js, formatted axes) and details folded away.

Runs are organisation-wide: leaders, analysts and superusers read them.
"""

from collections import defaultdict
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render

from common.exports import streaming_export
from common.roles import AnyUser, is_active_user, is_analyst, is_leader
from linkage.admin.runs import warning_text, within_between_sentence
from linkage.charts import lagged_unit_means
from linkage.models import ChainLink, LinkageResult, LinkageRun
from linkage.presentation import link_evidence, value_kind
from linkage.selectors import chain_links, linkage_results, linkage_runs
from linkage.services.chain import result_verdict
from surveys import periods
from surveys.models import Metric, OrgUnit
from surveys.selectors import metric_value_panel

from .exports import export_format

PAGE_SIZE = 25
SORTS = {
    "q": lambda row: (row["result"].q is None, row["result"].q or 0.0),
    "r": lambda row: (row["result"].r is None, -abs(row["result"].r or 0.0)),
    "within": lambda row: (row["result"].within_r is None, -abs(row["result"].within_r or 0.0)),
    "x": lambda row: (row["result"].x_metric.chain_stage, row["result"].x_metric.name),
    "y": lambda row: (row["result"].y_metric.chain_stage, row["result"].y_metric.name),
    "lag": lambda row: row["result"].lag,
    "units": lambda row: -row["result"].n_units,
}
SUPPORTED = ChainLink.Verdict.SUPPORTED


def reads_runs(user: AnyUser) -> bool:
    return is_leader(user) or is_analyst(user) or (is_active_user(user) and user.is_superuser)


def _shown(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def _p(value: float | None) -> str:
    if value is None:
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _row(result: LinkageResult) -> dict[str, Any]:
    verdict = result_verdict(result)
    return {
        "result": result,
        "verdict": verdict,
        "verdict_label": ChainLink.Verdict(verdict).label,
        "r": _shown(result.r),
        "ci": f"[{_shown(result.r_low)}, {_shown(result.r_high)}]",
        "p": _p(result.p),
        "q": _p(result.q),
        "within_r": _shown(result.within_r),
        "within_q": _p(result.within_q),
        "between_r": _shown(result.between_r),
        "warnings": warning_text(result.warnings),
    }


def _chain(run: LinkageRun, metrics: list[Metric], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Stages with their metrics, the chain links with evidence, and the supported pairs of
    the run that no chain link covers (shown apart, so every supported link appears)."""
    stages: dict[str, list[Metric]] = defaultdict(list)
    for metric in sorted(metrics, key=lambda metric: metric.chain_stage):
        stages[metric.get_chain_stage_display()].append(metric)
    links = list(chain_links(metric_keys=run.metric_keys))
    linked = {(link.from_metric_id, link.to_metric_id) for link in links}
    linked |= {(to, source) for source, to in linked}
    extra: dict[tuple[int, int], dict[str, Any]] = {}
    for row in rows:
        result = row["result"]
        pair = (result.x_metric_id, result.y_metric_id)
        if row["verdict"] != SUPPORTED or pair in linked or result.lag < 0:
            continue
        best = extra.get(pair)
        if best is None or (result.q or 1.0) < (best["result"].q or 1.0):
            extra[pair] = row
    return {
        "stages": list(stages.items()),
        "links": [{"link": link, "evidence": link_evidence(link)} for link in links],
        "extra": sorted(extra.values(), key=SORTS["x"]),
    }


def _stages(result: LinkageResult) -> tuple[int, int]:
    return result.x_metric.chain_stage, result.y_metric.chain_stage


def _filtered(request: HttpRequest, rows: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    stage, lag = request.GET.get("stage", ""), request.GET.get("lag", "")
    if stage:
        if not stage.isdigit():
            return None
        rows = [row for row in rows if int(stage) in _stages(row["result"])]
    if lag:
        if not lag.lstrip("-").isdigit():
            return None
        rows = [row for row in rows if row["result"].lag == int(lag)]
    if request.GET.get("supported") == "1":
        rows = [row for row in rows if row["verdict"] == SUPPORTED]
    sort = request.GET.get("sort", "q")
    if sort not in SORTS:
        return None
    return sorted(rows, key=SORTS[sort])


def _scatter(run: LinkageRun, result: LinkageResult, reader: AnyUser) -> dict[str, Any]:
    """Unit means of X (t) against Y (t + lag) for the chart script."""
    x, y = result.x_metric, result.y_metric
    # The run's panel for the pair's two metrics only (a run holds many; one read each).
    panel = metric_value_panel(
        metric_keys=[x.key, y.key],
        level=run.level,
        periods=periods.period_range(run.first_period, run.last_period),
        reader=reader,
    )
    index = {key: position for position, key in enumerate(panel.metric_keys)}
    units, x_means, y_means = lagged_unit_means(
        panel.values[index[x.key]], panel.values[index[y.key]], result.lag
    )
    codes = dict(OrgUnit.objects.filter(pk__in=panel.unit_ids).values_list("pk", "code"))
    granularity = periods.granularity_of(run.first_period)
    return {
        "id": "scatter",
        "dataId": "scatter-data",
        "xTitle": x.name,
        "yTitle": f"{y.name} ({'same period' if result.lag == 0 else f't{result.lag:+d}'})",
        "xKind": value_kind(x),
        "yKind": value_kind(y),
        "points": [
            {"x": float(a), "y": float(b), "unit": codes.get(panel.unit_ids[u], "")}
            for u, a, b in zip(units, x_means, y_means, strict=True)
        ],
        "explanation": within_between_sentence(result, run.level, granularity),
    }


def _drivers(run: LinkageRun, metrics: list[Metric]) -> dict[str, Any] | None:
    drivers = run.key_drivers or {}
    if not drivers.get("drivers"):
        return None
    names = {metric.key: metric.name for metric in metrics}
    return {
        "outcome": names.get(str(drivers.get("outcome")), drivers.get("outcome") or "the outcome"),
        "r_squared": drivers.get("r_squared"),
        "n": drivers.get("n"),
        "lag": drivers.get("lag"),
        "rows": [
            {
                "name": names.get(row.get("metric"), row.get("metric")),
                "shapley": 100 * float(row.get("share_shapley") or 0),
                "johnson": 100 * float(row.get("share_johnson") or 0),
            }
            for row in drivers["drivers"]
        ],
    }


@login_required
def latest_run(request: HttpRequest) -> HttpResponse:
    if not reads_runs(request.user):
        raise PermissionDenied("Linkage runs are read by leaders and analysts.")
    run = linkage_runs().filter(status=LinkageRun.Status.DONE).first()
    if run is None:
        return render(request, "workspace/linkage_none.html", {"nav_current": "linkage"})
    return redirect("workspace:linkage", pk=run.pk)


@login_required
def run_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The run's chain, its pairs (sorted, filtered, paginated) and one pair's scatter."""
    if not reads_runs(request.user):
        raise PermissionDenied("Linkage runs are read by leaders and analysts.")
    run = linkage_runs().filter(pk=pk).first()
    if run is None:
        raise Http404("There is no such linkage run.")
    by_key = Metric.objects.in_bulk(run.metric_keys, field_name="key")
    metrics = [by_key[key] for key in run.metric_keys if key in by_key]
    rows = [_row(result) for result in linkage_results(run)]
    shown = _filtered(request, rows)
    if shown is None:
        return HttpResponseBadRequest("Filters: stage (number), lag (number), sort, supported=1.")
    query = request.GET.copy()
    for name in ("page", "pair"):
        query.pop(name, None)
    page = Paginator(shown, PAGE_SIZE).get_page(request.GET.get("page"))
    pair = request.GET.get("pair", "")
    chosen = next((row for row in rows if str(row["result"].pk) == pair), None)
    context = {
        "run": run,
        "chain": _chain(run, metrics, rows) if run.status == LinkageRun.Status.DONE else None,
        "page": page,
        "query": query.urlencode(),
        "stages": sorted({(m.chain_stage, m.get_chain_stage_display()) for m in metrics}),
        "lags": sorted({row["result"].lag for row in rows}),
        "filters": request.GET,
        "chosen": chosen,
        "scatter": _scatter(run, chosen["result"], request.user) if chosen else None,
        "drivers": _drivers(run, metrics),
        "nav_current": "linkage",
        "breadcrumbs": [{"label": "Linkage", "url": ""}, {"label": str(run), "url": ""}],
    }
    return render(request, "workspace/linkage_run.html", context)


@login_required
def export_pairs(request: HttpRequest, pk: int) -> HttpResponse:
    """The run's pairs table (with the page's filters) as CSV or XLSX."""
    if not reads_runs(request.user):
        raise PermissionDenied("Linkage runs are read by leaders and analysts.")
    run = linkage_runs().filter(pk=pk).first()
    chosen = export_format(request)
    if run is None:
        raise Http404("There is no such linkage run.")
    shown = _filtered(request, [_row(result) for result in linkage_results(run)])
    if shown is None or chosen is None:
        return HttpResponseBadRequest("Bad filters or format (csv, xlsx).")
    header = ["x_metric", "y_metric", "lag", "units", "pairs", "r", "r_low", "r_high", "p", "q"]
    header += ["within_r", "within_q", "between_r", "verdict", "warnings"]

    def lines():
        yield header
        for row in shown:
            result = row["result"]
            yield [
                result.x_metric.key, result.y_metric.key, result.lag, result.n_units,
                result.n_pairs, result.r, result.r_low, result.r_high, result.p, result.q,
                result.within_r, result.within_q, result.between_r, row["verdict"],
                row["warnings"],
            ]  # fmt: skip

    return streaming_export(lines(), export_format=chosen, file_stem=f"linkage-run-{run.pk}")
