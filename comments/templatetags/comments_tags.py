"""Filters of the comments pages: bar geometry (percent → SVG units) and q in words."""

from django import template

register = template.Library()

BAR_START = 90
BAR_LENGTH = 100  # SVG units for 100 %


@register.filter
def bar_width(share: float | None) -> str:
    """Bar length in SVG units for a share in percent (0 when missing)."""
    return f"{max(0.0, min(float(share or 0.0), 100.0)) * BAR_LENGTH / 100:.1f}"


@register.filter
def bar_end(share: float | None) -> str:
    """Where the value label starts: just past the bar, kept inside the figure."""
    end = BAR_START + float(bar_width(share)) + 3
    return f"{min(end, BAR_START + BAR_LENGTH - 8):.1f}"


@register.filter
def q_text(q_value: float | None) -> str:
    """q in words: "q < 0.001", "q = 0.012", or "not tested"."""
    if q_value is None:
        return "not tested"
    return "q < 0.001" if q_value < 0.001 else f"q = {q_value:.3f}"
