"""CSV/XLSX downloads of the workspace tables through the platform's streaming exports.

Rows come from the same read models as the pages (scope, suppression and release applied
there); a hidden cell is exported as an empty value with "hidden" in its status column.
"""

from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from common.exports import Row, streaming_export
from surveys.exports import metric_value_rows
from surveys.selectors import metric_values

from .access import readable_unit
from .comparison import UnitOverview, unit_overview

FORMATS = ("csv", "xlsx")


def export_format(request: HttpRequest) -> str | None:
    chosen = request.GET.get("format", "csv")
    return chosen if chosen in FORMATS else None


def unit_rows(overview: UnitOverview) -> Iterator[Row]:
    """One row per child unit and metric: value, interval, n and the test vs the parent."""
    yield [
        "unit_code", "unit_name", "metric_key", "period", "status", "value", "ci_low",
        "ci_high", "n", "difference_vs_parent", "p_vs_parent", "significant_vs_parent",
    ]  # fmt: skip
    for row in overview.children:
        for metric in overview.metrics:
            cell = row.cells.get(metric.key)
            if cell is None:
                continue
            if cell.hidden:
                yield [row.unit.code, row.unit.name, metric.key, cell.period, "hidden"]
                continue
            test: Any = cell.versus_parent
            yield [
                row.unit.code, row.unit.name, metric.key, cell.period, "shown", cell.value,
                cell.ci_low, cell.ci_high, cell.n, cell.difference,
                test.p_value if test is not None else None,
                bool(test.significant) if test is not None else None,
            ]  # fmt: skip


@login_required
def export_units(request: HttpRequest, code: str) -> HttpResponse:
    """The unit page's comparison table as CSV or XLSX."""
    unit = readable_unit(request, code)
    chosen = export_format(request)
    if chosen is None:
        return HttpResponseBadRequest("format must be csv or xlsx")
    overview = unit_overview(unit, reader=request.user)
    return streaming_export(
        unit_rows(overview), export_format=chosen, file_stem=f"units-of-{unit.code}"
    )


@login_required
def export_values(request: HttpRequest, code: str) -> HttpResponse:
    """Every metric value of the unit itself (the trends' numbers), masked where hidden."""
    unit = readable_unit(request, code)
    chosen = export_format(request)
    if chosen is None:
        return HttpResponseBadRequest("format must be csv or xlsx")
    values = metric_values(reader=request.user, unit=unit, subtree=False)
    return streaming_export(
        metric_value_rows(values), export_format=chosen, file_stem=f"values-of-{unit.code}"
    )
