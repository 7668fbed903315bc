"""The shell's navigation bar and small formatting helpers of the workspace pages."""

from html import escape
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from ..nav import nav_links
from ..roles import managed_units, role_label

register = template.Library()


@register.inclusion_tag("workspace/_nav.html", takes_context=True)
def shell_nav(context: dict[str, Any]) -> dict[str, Any]:
    """User, role, units, logout and the links the user may follow."""
    request = context["request"]
    user = request.user
    authenticated = user.is_authenticated
    units = managed_units(user) if authenticated and role_label(user) == "Unit manager" else []
    return {
        "request": request,
        "user": user,
        "authenticated": authenticated,
        "role": role_label(user) if authenticated else "",
        "units": units,
        "links": nav_links(request, context.get("nav_current", "")) if authenticated else [],
    }


CI = '<span class="small muted ci">95 % CI {}</span>'
COUNT = '<span class="small muted">n = {}</span>'
TEST = '<span class="small vs vs-{}{}">{} ({}, p = {})</span>'
UNTESTED = '<span class="small muted">{} vs parent, untested</span>'
FLAG = '<span class="small flag" role="note">⚑ {}</span>'


@register.filter
def cell_html(cell: dict[str, Any]) -> SafeString:
    """One value cell (a `presentation.cell_view`): value, interval, n, test, flags.

    A filter rather than an included template: a region's page renders hundreds of cells.
    """
    if cell.get("hidden"):
        return format_html('<span class="hidden-cell">{}</span>', cell["value"])
    if cell.get("empty"):
        return format_html('<span class="muted">{}</span>', cell["value"])
    parts = [format_html('<span class="value">{}</span>', cell["value"])]
    if cell.get("interval"):
        parts.append(format_html(CI, cell["interval"]))
    if cell.get("n"):
        parts.append(format_html(COUNT, cell["n"]))
    verdict = cell.get("verdict")
    if verdict:
        better = cell.get("better")
        tone = "" if better is None else (" good" if better else " bad")
        said = "not different from parent" if verdict == "same" else f"{verdict} parent"
        parts.append(format_html(TEST, verdict, tone, said, cell.get("difference", ""), cell["p"]))
    elif cell.get("difference"):
        parts.append(format_html(UNTESTED, cell["difference"]))
    parts.append(format_html_join("", FLAG, ((flag,) for flag in cell.get("flags", []))))
    return format_html("{}", SafeString(" ".join(parts)))


@register.filter
def heat_cells_html(cells: list[dict[str, Any]]) -> SafeString:
    """The <td>s of one heat-map row: the value on its colour class, or the hidden text."""
    return format_html_join(
        "",
        '<td class="{}">{}</td>',
        (
            (
                cell["css"],
                format_html('<span class="hidden-cell">{}</span>', cell["value"])
                if cell.get("hidden")
                else cell["value"],
            )
            for cell in cells
        ),
    )


@register.filter
def league_cells_html(cells: list[dict[str, Any]]) -> SafeString:
    """The <td>s of one league-table row, each with its sort key."""
    return format_html_join(
        "", '<td data-sort="{}">{}</td>', ((cell["sort"], cell_html(cell)) for cell in cells)
    )


@register.filter
def scatter_rows_html(points: list[dict[str, Any]]) -> SafeString:
    """The rows of a scatter's table fallback (one per unit: a run has a thousand stores, so
    plain joined strings, every text escaped)."""
    return mark_safe(
        "".join(
            f'<tr><th scope="row">{escape(str(point["unit"]))}</th>'
            f"<td>{point['x']:.2f}</td><td>{point['y']:.2f}</td></tr>"
            for point in points
        )
    )
