"""Linkage runs in the admin: a start form (through the service) and a read-only review page.

The review shows the run's status (refreshing while it works), the results chain as a
diagram, every pair and lag with its verdict, one scatter plot per pair for a chosen lag, the
key drivers, value at stake and the warnings a leader must read before believing a number.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from common.roles import acting_user, is_leader
from surveys import periods as period_labels
from surveys.models import Metric, OrgUnit
from surveys.selectors import metric_values_snapshot_at

from ..charts import (
    SIGNIFICANT_Q,
    ChainEdge,
    ChainNode,
    chain_diagram,
    lagged_unit_means,
    scatter_plot,
)
from ..exceptions import InvalidLinkageRun
from ..models import ChainLink, LinkageResult, LinkageRun
from ..presentation import drivers_sentence
from ..selectors import chain_links, linkage_results
from ..services.chain import edit_chain_link, result_verdict
from ..services.runs import MAX_LAG, run_panel, start_linkage_run

CAUSATION = (
    "Correlation is not causation: a link can run the other way (better-performing units make "
    "happier staff), or both metrics can follow a third cause. Compare the lags in both "
    "directions and the within-unit results before acting."
)


class StartLinkageRunForm(forms.Form):
    """Shape only; the service checks metrics, periods and data."""

    level = forms.ChoiceField(choices=OrgUnit.Level.choices, initial=OrgUnit.Level.STORE)
    first_period = forms.CharField(
        required=False, max_length=7, help_text="e.g. 2026-01 or 2026-Q1; blank: first with data."
    )
    last_period = forms.CharField(
        required=False, max_length=7, help_text="Blank: the last period with data."
    )
    metric_keys = forms.MultipleChoiceField(
        required=False,
        label="Metrics",
        widget=forms.CheckboxSelectMultiple,
        help_text="In chain order. None ticked: every metric with values at this level.",
    )
    max_lag = forms.IntegerField(
        min_value=0,
        max_value=MAX_LAG,
        initial=1,
        help_text="Periods of lag tested in both directions (X leads Y and Y leads X).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["metric_keys"].choices = [  # type: ignore[attr-defined]
            (metric.key, f"{metric.get_chain_stage_display()} · {metric.name} ({metric.key})")
            for metric in Metric.objects.order_by("chain_stage", "key").only(
                "key", "name", "chain_stage"
            )
        ]


@admin.register(LinkageRun)
class LinkageRunAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "progress_shown", "n_units", "metric_count", "created_at"]
    list_filter = ["status", "level"]
    list_select_related = ["created_by"]

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # runs are written by the service and the worker only

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="progress")
    def progress_shown(self, run: LinkageRun) -> str:
        return f"{run.progress} %"

    @admin.display(description="metrics")
    def metric_count(self, run: LinkageRun) -> int:
        return len(run.metric_keys)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = StartLinkageRunForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            run = self._start(request, form)
            if run is not None:
                self.message_user(request, f"{run} started.", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:linkage_linkagerun_change", args=[run.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Start a linkage run",
            "opts": self.opts,
            "form": form,
        }
        return TemplateResponse(request, "admin/linkage/linkagerun/start.html", context)

    def _start(self, request: HttpRequest, form: StartLinkageRunForm) -> LinkageRun | None:
        data = form.cleaned_data
        try:
            return start_linkage_run(
                created_by=acting_user(request.user),
                level=data["level"],
                first_period=data["first_period"] or None,
                last_period=data["last_period"] or None,
                metric_keys=data["metric_keys"] or None,
                max_lag=data["max_lag"],
            )
        except InvalidLinkageRun as error:
            for field, lines in error.errors.items():
                form.add_error(field if field in form.fields else None, lines)
            return None

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None
    ):
        run = self.get_object(request, unquote(object_id))
        if run is None:
            return self._get_obj_does_not_exist_redirect(  # type: ignore[attr-defined]
                request, self.opts, object_id
            )
        if not self.has_view_permission(request, run):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            **review_context(run, request),
            "title": str(run),
            "opts": self.opts,
            "original": run,
        }
        return TemplateResponse(request, "admin/linkage/linkagerun/review.html", context)


# ------------------------------------------------------------------ review page


def review_context(run: LinkageRun, request: HttpRequest) -> dict[str, Any]:
    """Everything the review template shows; statistics only once the run is done."""
    context: dict[str, Any] = {
        "run": run,
        "working": run.status in (LinkageRun.Status.PENDING, LinkageRun.Status.RUNNING),
        "causation": CAUSATION,
    }
    if run.status != LinkageRun.Status.DONE:
        return context
    results = list(linkage_results(run))
    metrics = _run_metrics(run)
    lags = sorted({result.lag for result in results})
    lag = _chosen_lag(request, lags)
    context.update(
        rows=[_result_row(result) for result in results],
        lags=lags,
        lag=lag,
        diagram=chain_diagram(*_diagram_parts(run, metrics, results)),
        scatters=_scatters(run, metrics, results, lag, request),
        drivers=_driver_rows(run, metrics),
        values_at_stake=[
            link
            for link in chain_links(metric_keys=run.metric_keys)
            if link.value_at_stake.get("run") == run.pk
        ],
        data_changed=_data_changed(run),
    )
    return context


def _run_metrics(run: LinkageRun) -> list[Metric]:
    by_key = Metric.objects.in_bulk(run.metric_keys, field_name="key")
    return [by_key[key] for key in run.metric_keys if key in by_key]


def _chosen_lag(request: HttpRequest, lags: list[int]) -> int | None:
    raw = request.GET.get("lag", "")
    if raw.lstrip("-").isdigit() and int(raw) in lags:
        return int(raw)
    for preferred in (1, 0):
        if preferred in lags:
            return preferred
    return lags[0] if lags else None


def _p_text(value: float | None) -> str:
    if value is None:
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _result_row(result: LinkageResult) -> dict[str, Any]:
    """One table row, formatted: r with its 95 % CI, p and q, the other correlations."""
    r_text = "—"
    if result.r is not None:
        r_text = f"{result.r:+.2f} [{_shown(result.r_low)}, {_shown(result.r_high)}]"
    return {
        "x": result.x_metric.name,
        "y": result.y_metric.name,
        "lag": result.lag,
        "n_units": result.n_units,
        "r": r_text,
        "p": _p_text(result.p),
        "q": _p_text(result.q),
        "significant": result.q is not None and result.q < SIGNIFICANT_Q,
        "spearman": _shown(result.spearman),
        "within_r": _shown(result.within_r),
        "within_q": _p_text(result.within_q),
        "between_r": _shown(result.between_r),
        "verdict": ChainLink.Verdict(result_verdict(result)).label,
        "warnings": warning_text(result.warnings),
    }


def _diagram_parts(run: LinkageRun, metrics: list[Metric], results: list[LinkageResult]):
    nodes = [
        ChainNode(metric.key, metric.name, metric.chain_stage, metric.get_chain_stage_display())
        for metric in metrics
    ]
    by_pair = {(result.x_metric_id, result.y_metric_id, result.lag): result for result in results}
    edges = []
    for link in chain_links(metric_keys=run.metric_keys):
        lag = link.expected_lag
        result = by_pair.get((link.from_metric_id, link.to_metric_id, lag)) or by_pair.get(
            (link.to_metric_id, link.from_metric_id, -lag)
        )
        if result is not None:
            _, r, q = result.verdict_basis
            edges.append(ChainEdge(link.from_metric.key, link.to_metric.key, r, q, lag))
    return nodes, edges


def _scatters(run, metrics, results, lag, request) -> list[dict[str, Any]]:
    """One scatter per pair at `lag`: unit means of X (t) against Y (t + lag)."""
    if lag is None:
        return []
    panel = run_panel(run, reader=request.user)
    index = {key: position for position, key in enumerate(panel.metric_keys)}
    codes = dict(OrgUnit.objects.filter(pk__in=panel.unit_ids).values_list("pk", "code"))
    granularity = period_labels.granularity_of(run.first_period)
    scatters = []
    for result in results:
        if result.lag != lag:
            continue
        x, y = result.x_metric, result.y_metric
        units, x_means, y_means = lagged_unit_means(
            panel.values[index[x.key]], panel.values[index[y.key]], lag
        )
        labels = [codes.get(panel.unit_ids[unit], "") for unit in units]
        scatters.append(
            {
                "result": result,
                "svg": scatter_plot(
                    labels,
                    x_means,
                    y_means,
                    x_title=x.name,
                    y_title=f"{y.name} (t{lag:+d})",
                    identifier=f"scatter-{result.pk}",
                ),
                "points": len(units),
                "explanation": within_between_sentence(result, run.level, granularity),
            }
        )
    return scatters


def _lag_phrase(lag: int, granularity: str) -> str:
    if lag == 0:
        return f"in the same {granularity}"
    if lag == 1:
        return f"the next {granularity}"
    if lag > 0:
        return f"{lag} {granularity}s later"
    return f"{-lag} {granularity}(s) earlier (Y leads)"


def _clear(r: float | None, p: float | None) -> bool:
    return r is not None and p is not None and p < SIGNIFICANT_Q


def within_between_sentence(result: LinkageResult, level: str, granularity: str) -> str:
    """Plain-language reading of the between-unit and within-unit correlations of one pair.

    A correlation with p ≥ 0.05 is read as "no clear pattern" rather than given a direction.
    """
    x, y, later = result.x_metric.name, result.y_metric.name, _lag_phrase(result.lag, granularity)
    between = f"Between units (r = {_shown(result.between_r)}): "
    if _clear(result.between_r, result.between_p):
        more = "higher" if (result.between_r or 0) >= 0 else "lower"
        between += f"{level}s with higher {x} have {more} {y}."
    else:
        between += f"no clear difference in {y} between {level}s with higher and lower {x}."
    within = f"Within units (r = {_shown(result.within_r)}): "
    if _clear(result.within_r, result.within_p):
        moves = "rises" if (result.within_r or 0) >= 0 else "falls"
        within += f"when a {level}'s {x} rises, its {y} {moves} {later}."
    else:
        within += f"a {level}'s {y} does not move clearly with its own {x} {later}."
    return f"{between} {within}"


# What the statistics' warning codes mean, in the words of the review page.
WARNING_TEXT = {
    "small_n": "fewer than 10 complete pairs",
    "few_units": "fewer than 10 units",
    "constant_input": "a metric does not vary",
    "constant_within": "no change within units",
    "constant_between": "units do not differ on average",
    "missing_dropped": "incomplete unit-periods left out",
    "collinear_drivers": "drivers overlap almost entirely",
    "too_many_drivers": "too many drivers for exact Shapley weights",
    "few_units_per_driver": "fewer than 10 units per driver: weights may overfit",
    "same_survey": "answered in one survey: shared measurement, left out of the link tests",
}


def warning_text(codes: list[str]) -> str:
    return "; ".join(WARNING_TEXT.get(code, code.replace("_", " ")) for code in codes)


def _shown(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def _driver_rows(run: LinkageRun, metrics: list[Metric]) -> dict[str, Any] | None:
    drivers = run.key_drivers or {}
    if not drivers.get("drivers"):
        return None
    names = {metric.key: metric.name for metric in metrics}
    return {
        "outcome": names.get(str(drivers.get("outcome")), drivers.get("outcome")),
        "r_squared": drivers.get("r_squared"),
        "n": drivers.get("n"),
        "lag": drivers.get("lag"),
        "warnings": warning_text(drivers.get("warnings", [])),
        "sentence": drivers_sentence(drivers),
        "reliable": bool(drivers.get("reliable")),
        "rows": [
            dict(row, name=names.get(row["metric"], row["metric"])) for row in drivers["drivers"]
        ],
    }


def _data_changed(run: LinkageRun) -> bool:
    """True when values of the run's metrics were recomputed or imported after the run read them."""
    latest = metric_values_snapshot_at(
        metric_keys=run.metric_keys,
        level=run.level,
        periods=period_labels.period_range(run.first_period, run.last_period),
    )
    return bool(latest and run.data_snapshot_at and latest > run.data_snapshot_at)


class ChainLinkForm(forms.ModelForm):
    expected_lag = forms.IntegerField(
        min_value=0,
        max_value=MAX_LAG,
        help_text="Periods from a change in the first metric to its effect on the second.",
    )

    class Meta:
        model = ChainLink
        fields = ["statement", "expected_lag"]


@admin.register(ChainLink)
class ChainLinkAdmin(admin.ModelAdmin):
    """Links are created by linkage runs; analysts and leaders reword them or change their lag."""

    form = ChainLinkForm
    list_display = ["statement_shown", "expected_lag", "verdict", "latest_r", "latest_q"]
    list_display += ["value_text"]
    list_filter = ["verdict"]
    list_select_related = ["from_metric", "to_metric", "latest_result"]
    fields = ["link_metrics", "statement", "expected_lag", "verdict", "latest_r", "latest_q"]
    fields += ["value_text"]
    readonly_fields = ["link_metrics", "verdict", "latest_r", "latest_q", "value_text"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_leader(request.user) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ChainLink, form, change: bool) -> None:
        edit_chain_link(
            actor=acting_user(request.user),
            link=obj,
            statement=form.cleaned_data["statement"],
            expected_lag=form.cleaned_data["expected_lag"],
        )
        if obj.verdict == ChainLink.Verdict.UNTESTED:
            self.message_user(
                request,
                f"The latest linkage run did not test this link at lag {obj.expected_lag}; "
                "start a run that includes both metrics to see its evidence.",
                messages.WARNING,
            )

    @admin.display(description="from → to")
    def link_metrics(self, link: ChainLink) -> str:
        return f"{link.from_metric} → {link.to_metric}"

    @admin.display(description="link")
    def statement_shown(self, link: ChainLink) -> str:
        return str(link)

    @admin.display(description="latest r")
    def latest_r(self, link: ChainLink) -> str:
        result = link.latest_result
        if result is None or result.r is None:
            return "—"
        return f"{result.r:+.2f} [{_shown(result.r_low)}, {_shown(result.r_high)}]"

    @admin.display(description="latest q")
    def latest_q(self, link: ChainLink) -> str:
        result = link.latest_result
        return "—" if result is None or result.q is None else f"{result.q:.3g}"

    @admin.display(description="value at stake")
    def value_text(self, link: ChainLink) -> str:
        return link.value_at_stake.get("text", "—") if link.value_at_stake else "—"
