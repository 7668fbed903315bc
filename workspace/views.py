"""The workspace shell's pages: role homes, login, a unit's page with its children compared.

Views check access (`access`), read through `comparison`/`drilldown` and format with
`presentation`; they write nothing.
"""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from linkage.presentation import format_value
from surveys.visibility import top_readable_units

from . import presentation
from .access import breadcrumbs, readable_unit
from .comparison import UnitOverview, unit_overview
from .roles import home_url


class LoginView(auth_views.LoginView):
    template_name = "workspace/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role's landing page: leaders and analysts the company, a manager their unit."""
    url = home_url(request.user)
    if url is None:
        raise PermissionDenied("Your account has no role yet: ask an administrator for one.")
    return redirect(url)


@login_required
def choose(request: HttpRequest) -> HttpResponse:
    """A superuser's home: administer the platform or read results."""
    if not request.user.is_superuser:
        return redirect("workspace:home")
    tops = top_readable_units(request.user)
    context = {"tops": tops, "nav_current": "dashboard"}
    return render(request, "workspace/choose.html", context)


def _overview_context(request: HttpRequest, overview: UnitOverview) -> dict:
    trends = [
        {
            "trend": trend,
            "chart": presentation.trend_chart(trend, f"chart-{index}"),
            "rows": presentation.trend_rows(trend),
            "latest": presentation.cell_view(trend.metric, trend.latest),
            "target": format_value(trend.metric, trend.target) if trend.target is not None else "",
        }
        for index, trend in enumerate(overview.trends)
    ]
    league = [
        {
            "unit": row.unit,
            "cells": [presentation.cell_view(m, row.cells.get(m.key)) for m in overview.metrics],
        }
        for row in overview.children
    ]
    heat = _heat(overview)
    return {
        "unit": overview.unit,
        "overview": overview,
        "trends": trends,
        "charts": [item["chart"] for item in trends],
        "league": league,
        "heat": heat,
        "breadcrumbs": breadcrumbs(overview.unit, request),
        "nav_current": "dashboard",
    }


def _heat(overview: UnitOverview) -> list[dict]:
    metric = overview.heat_metric
    if metric is None:
        return []
    values = [
        cell.value
        for _, cells in overview.heat_rows
        for cell in cells
        if cell is not None and not cell.hidden and cell.value is not None
    ]
    low, high = (min(values), max(values)) if values else (0.0, 0.0)
    return [
        {
            "unit": unit,
            "cells": [
                {
                    **presentation.cell_view(metric, cell),
                    "period": period,
                    "css": presentation.heat_class(
                        metric, None if cell is None or cell.hidden else cell.value, low, high
                    ),
                }
                for period, cell in zip(overview.heat_periods, cells, strict=True)
            ],
        }
        for unit, cells in overview.heat_rows
    ]


@login_required
def unit_page(request: HttpRequest, code: str) -> HttpResponse:
    """The unit's headline and diagnostics as trends, and its children side by side."""
    unit = readable_unit(request, code)
    overview = unit_overview(unit, reader=request.user)
    return render(request, "workspace/unit.html", _overview_context(request, overview))


@login_required
def unit_json(request: HttpRequest, code: str) -> JsonResponse:
    """The unit page's numbers for other tools (same scope and suppression)."""
    unit = readable_unit(request, code)
    overview = unit_overview(unit, reader=request.user)
    children = [
        {
            "unit": row.unit.code,
            "name": row.unit.name,
            "metrics": {
                metric.key: presentation.cell_view(metric, row.cells.get(metric.key))
                for metric in overview.metrics
            },
        }
        for row in overview.children
    ]
    charts = [
        presentation.trend_chart(trend, f"chart-{index}")
        for index, trend in enumerate(overview.trends)
    ]
    return JsonResponse(
        {
            "unit": unit.code,
            "trends": charts,
            "children": children,
            "url": reverse("workspace:unit", args=[unit.code]),
        }
    )
