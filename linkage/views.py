"""Leader pages: the dashboard (one barometer as the headline) and unit scorecards.

Views check who may see which unit and delegate the reading to `leadership_selectors`.
"""

import itertools
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from common.roles import is_leader
from surveys import periods
from surveys.models import OrgUnit
from surveys.selectors import unit_by_code
from surveys.visibility import SYSTEM, can_read_unit, readable_units, top_readable_units

from .leadership_selectors import (
    Dashboard,
    ScorecardRow,
    ScorecardSection,
    readings_for_unit,
    scorecard,
)
from .leadership_selectors import dashboard as dashboard_data
from .models import LinkageRun
from .presentation import latest_target, reading_as_json, reading_chart, unit_options


def _unit_for(request: HttpRequest, code: str | None) -> OrgUnit:
    """The unit asked for, if the user may see it; default: the top of their visible tree."""
    if code:
        unit = unit_by_code(SYSTEM, code)
        # Unknown and outside the user's scope answer alike (404), so codes cannot be probed.
        if unit is None or not can_read_unit(request.user, unit):
            raise Http404("There is no unit with this code.")
        return unit
    tops = top_readable_units(request.user)
    if not tops:
        raise PermissionDenied("You do not manage any unit yet; ask an administrator.")
    return tops[0]


def _run_url(run: LinkageRun | None) -> str:
    """The run's readable review in the workspace (the admin page is for editing it)."""
    if run is None:
        return ""
    try:
        return reverse("workspace:linkage", args=[run.pk])
    except NoReverseMatch:
        return ""


def _dashboard_charts(data: Dashboard) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The headline's and each diagnostic's trend chart (data for static/js/workspace.js),
    with the unit's own targets and, on the barometer, the month it was agreed."""
    own = [expectation for expectation in data.expectations if expectation.unit_id == data.unit.pk]
    headline = None
    if data.headline is not None and data.barometer is not None:
        metric = data.headline.metric
        agreed = periods.label_for(data.barometer.started_at, periods.MONTH)
        target = latest_target(metric, own)
        headline = reading_chart(data.headline, "chart-0", target=target, agreed=agreed)
    diagnostics = [
        {
            "reading": reading,
            **reading_chart(reading, f"chart-{index}", target=latest_target(reading.metric, own)),
        }
        for index, reading in enumerate(data.diagnostics, start=1)
    ]
    return headline, diagnostics


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The barometer in force for the chosen unit, diagnostics below it, and where to go next."""
    unit = _unit_for(request, request.GET.get("unit"))
    data = dashboard_data(unit, reader=request.user)
    # Plain (code, name) rows rendered in one go: a leader reads every unit, and a form
    # widget rendering a thousand stores' options took most of the page's time.
    units = readable_units(request.user).values_list("code", "name")
    headline, diagnostics = _dashboard_charts(data)
    context = {
        "data": data,
        "unit": unit,
        "unit_options": unit_options(units, selected=unit.code),
        "headline": headline,
        "diagnostics": diagnostics,
        "run_url": _run_url(data.latest_run),
        "is_leader": is_leader(request.user),
    }
    return render(request, "linkage/dashboard.html", context)


def _scorecard_with_charts(sections: list[ScorecardSection]) -> list[dict[str, Any]]:
    """Each scorecard row beside its trend chart (target and agreed month where they exist)."""
    chart_ids = (f"chart-{index}" for index in itertools.count())

    def item(row: ScorecardRow) -> dict[str, Any]:
        target = latest_target(row.reading.metric, row.targets)
        chart = reading_chart(
            row.reading, next(chart_ids), target=target, agreed=row.agreed_period, compact=True
        )
        return {"row": row, "trend": chart}

    return [
        {
            "level": section.level,
            "label": section.label,
            "groups": [
                (perspective, [item(row) for row in rows]) for perspective, rows in section.groups
            ],
        }
        for section in sections
    ]


@login_required
def unit_scorecard(request: HttpRequest, code: str) -> HttpResponse:
    """Balanced scorecard of one unit, read top-down as the results chain; printable."""
    unit = _unit_for(request, code)
    context = {
        "unit": unit,
        "sections": _scorecard_with_charts(scorecard(unit, reader=request.user)),
        "ancestors": unit.ancestors(),
    }
    return render(request, "linkage/scorecard.html", context)


@login_required
def unit_readings_json(request: HttpRequest, code: str) -> JsonResponse:
    """The unit's metrics with trend and tested change, for charts (same suppression)."""
    unit = _unit_for(request, code)
    readings = sorted(
        readings_for_unit(unit, reader=request.user).values(),
        key=lambda r: (r.metric.chain_stage, r.metric.key),
    )
    return JsonResponse(
        {"unit": unit.code, "metrics": [reading_as_json(reading) for reading in readings]}
    )
