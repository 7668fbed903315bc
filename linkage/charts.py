"""Server-side SVG charts for the linkage review: the chain diagram and unit scatter plots.

Pure functions (numpy and the stdlib only): data in, an SVG string out, every text escaped.
No script and no external library, so the admin page renders the same without JavaScript.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np

from .stats import lagged_pairs

POSITIVE, NEGATIVE, UNKNOWN = "#1a7f37", "#cf222e", "#8c959f"
SIGNIFICANT_Q = 0.05
BOX_WIDTH, BOX_HEIGHT, COLUMN_GAP, ROW_GAP, MARGIN, HEADER = 170, 46, 130, 22, 16, 30
LANE = 40  # height of the lane below the boxes for links that skip stages


@dataclass(frozen=True)
class ChainNode:
    key: str
    name: str
    stage: int
    stage_name: str


@dataclass(frozen=True)
class ChainEdge:
    source: str
    target: str
    r: float | None
    q: float | None
    lag: int


def _colour(r: float | None) -> str:
    if r is None or not math.isfinite(r):
        return UNKNOWN
    return POSITIVE if r >= 0 else NEGATIVE


def _wrap(text: str, width: int = 24, lines: int = 2) -> list[str]:
    """Split a box label into at most `lines` lines, ending with … when cut."""
    words, wrapped, current = text.split(), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            wrapped.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    wrapped.append(current)
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: width - 1] + "…"
    return wrapped


def _layout(
    nodes: Sequence[ChainNode],
) -> tuple[dict[str, tuple[float, float]], list[tuple[float, str]], float]:
    """Top-left corner of each box: one column per stage (left to right), boxes stacked."""
    stages = sorted({node.stage for node in nodes})
    column = {stage: index for index, stage in enumerate(stages)}
    rows: dict[int, int] = {}
    corners: dict[str, tuple[float, float]] = {}
    for node in nodes:
        row = rows.get(node.stage, 0)
        rows[node.stage] = row + 1
        x = MARGIN + column[node.stage] * (BOX_WIDTH + COLUMN_GAP)
        corners[node.key] = (x, MARGIN + HEADER + row * (BOX_HEIGHT + ROW_GAP))
    headers: list[tuple[float, str]] = [
        (MARGIN + column[stage] * (BOX_WIDTH + COLUMN_GAP), name)
        for stage, name in sorted({(node.stage, node.stage_name) for node in nodes})
    ]
    depth = max(rows.values(), default=0)
    return corners, headers, float(MARGIN * 2 + HEADER + depth * (BOX_HEIGHT + ROW_GAP))


@dataclass(frozen=True)
class _Curve:
    """A cubic Bézier from one box's right side to another's left side."""

    start: tuple[float, float]
    end: tuple[float, float]
    bend: float
    through_y: tuple[float, float]  # y of the two inner control points

    def point(self, t: float) -> tuple[float, float]:
        xs = (self.start[0], self.start[0] + self.bend, self.end[0] - self.bend, self.end[0])
        ys = (self.start[1], *self.through_y, self.end[1])
        weights = ((1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3)
        return (
            sum(w * c for w, c in zip(weights, xs, strict=True)),
            sum(w * c for w, c in zip(weights, ys, strict=True)),
        )

    def path(self) -> str:
        (x1, y1), (x2, y2), bend = self.start, self.end, self.bend
        return (
            f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{self.through_y[0]:.1f} "
            f"{x2 - bend:.1f},{self.through_y[1]:.1f} {x2:.1f},{y2:.1f}"
        )


def _curve(edge: ChainEdge, corners: dict[str, tuple[float, float]], lane: float) -> _Curve:
    """Neighbouring columns: an S-curve. A link that skips columns dips into the lane below
    the boxes, so it never runs through the boxes of the stages in between."""
    (x1, y1), (x2, y2) = corners[edge.source], corners[edge.target]
    start = (x1 + BOX_WIDTH, y1 + BOX_HEIGHT / 2)
    end = (x2 - 13, y2 + BOX_HEIGHT / 2)  # the 12-unit arrow head sits beyond the path end
    bend = max((end[0] - start[0]) / 2, 40)
    skips = x2 - x1 > BOX_WIDTH + COLUMN_GAP + 1
    if not skips:
        return _Curve(start, end, bend, (start[1], end[1]))
    # At t = 1/2 a cubic is at 1/8·y1 + 3/8·(c1 + c2) + 1/8·y2: aim that at the lane.
    dip = (8 * lane - start[1] - end[1]) / 6
    return _Curve(start, end, min(bend, COLUMN_GAP), (dip, dip))


def _edge_svg(
    edge: ChainEdge, corners: dict[str, tuple[float, float]], lane: float, order: int
) -> str:
    """One link; `order` counts the links drawn before it from the same box."""
    curve = _curve(edge, corners, lane)
    path = curve.path()
    significant = edge.q is not None and edge.q < SIGNIFICANT_Q
    known = edge.r is not None and math.isfinite(edge.r)
    width = 1.0 + 7.0 * abs(edge.r) if edge.r is not None and known else 1.0
    colour = _colour(edge.r)
    dash = "" if significant else ' stroke-dasharray="6 4"'
    label = (f"r = {edge.r:+.2f}" if known else "r = n/a") + (" ★" if significant else "")
    # Links leaving one box get their labels at different points of their curves, above and
    # below the line in turn, so labels of links that start together do not overlap.
    label_x, label_y = curve.point(min(0.22 + 0.33 * order, 0.8))
    offset = -(width / 2 + 5) if order % 2 == 0 else width / 2 + 12
    middle = (label_x, label_y + offset)
    summary = f"{edge.source} → {edge.target}, lag {edge.lag}: {label}" + (
        f", q = {edge.q:.3f}" if edge.q is not None else ""
    )
    return (
        f'<g class="link{" significant" if significant else ""}"><title>{escape(summary)}</title>'
        f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="{width:.1f}"{dash} '
        f'marker-end="url(#arrow-{colour[1:]})"/>'
        f'<text x="{middle[0]:.1f}" y="{middle[1]:.1f}" text-anchor="middle" font-size="11" '
        # A white halo keeps a label readable where it crosses another link.
        f'fill="{colour}" stroke="#fff" stroke-width="3" paint-order="stroke">'
        f"{escape(label)}</text></g>"
    )


def _node_svg(node: ChainNode, corner: tuple[float, float]) -> str:
    x, y = corner
    lines = _wrap(node.name)
    first = y + BOX_HEIGHT / 2 - (len(lines) - 1) * 7 + 4
    text = "".join(
        f'<tspan x="{x + BOX_WIDTH / 2:.1f}" y="{first + index * 14:.1f}">{escape(line)}</tspan>'
        for index, line in enumerate(lines)
    )
    return (
        f'<g class="metric"><title>{escape(node.name)} ({escape(node.key)})</title>'
        f'<rect x="{x}" y="{y}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="6" '
        f'fill="#f6f8fa" stroke="#57606a"/>'
        f'<text text-anchor="middle" font-size="12" fill="#1f2328">{text}</text></g>'
    )


def _markers() -> str:
    return "".join(
        # User-space units: the head keeps its size however thick the line is.
        f'<marker id="arrow-{colour[1:]}" viewBox="0 0 10 10" refX="0" refY="5" '
        f'markerUnits="userSpaceOnUse" markerWidth="12" markerHeight="12" orient="auto">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        for colour in (POSITIVE, NEGATIVE, UNKNOWN)
    )


def chain_diagram(nodes: Sequence[ChainNode], edges: Sequence[ChainEdge]) -> str:
    """The results chain: stages as columns left to right, metrics as boxes, links as arrows.

    Stroke width grows with |r|; colour gives the sign (green +, red −, grey unknown); a link
    with q < 0.05 is solid and starred, others dashed.
    """
    corners, headers, boxes_bottom = _layout(nodes)
    columns = len(headers)
    width = MARGIN * 2 + columns * BOX_WIDTH + max(columns - 1, 0) * COLUMN_GAP
    known = [edge for edge in edges if edge.source in corners and edge.target in corners]
    lane = boxes_bottom + LANE / 2  # where links that skip a stage run
    height = boxes_bottom + LANE
    leaving: dict[str, int] = {}
    edges_svg = []
    for edge in known:
        order = leaving[edge.source] = leaving.get(edge.source, -1) + 1
        edges_svg.append(_edge_svg(edge, corners, lane, order))
    header_svg = "".join(
        f'<text x="{x + BOX_WIDTH / 2:.1f}" y="{MARGIN + 12}" text-anchor="middle" '
        f'font-size="12" font-weight="bold" fill="#57606a">{escape(name)}</text>'
        for x, name in headers
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chain-diagram" role="img" '
        f'width="{width}" height="{height:.0f}" viewBox="0 0 {width} {height:.0f}">'
        f"<title>Results chain with the evidence of this run</title><defs>{_markers()}</defs>"
        + header_svg
        + "".join(edges_svg)
        + "".join(_node_svg(node, corners[node.key]) for node in nodes)
        + "</svg>"
    )


# ------------------------------------------------------------------ scatter plots


def lagged_unit_means(
    x_panel: np.ndarray, y_panel: np.ndarray, lag: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per unit: mean of X at t and mean of Y at t + lag over the unit's complete pairs.

    Returns (unit indexes, x means, y means) for the units with at least one pair.
    """
    x_values, y_values, units = lagged_pairs(x_panel, y_panel, lag)
    counts = np.bincount(units, minlength=x_panel.shape[0])
    present = np.flatnonzero(counts)
    x_sums = np.bincount(units, weights=x_values, minlength=x_panel.shape[0])
    y_sums = np.bincount(units, weights=y_values, minlength=x_panel.shape[0])
    return present, x_sums[present] / counts[present], y_sums[present] / counts[present]


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    """Least-squares line (slope, intercept); None for fewer than 2 points or constant x."""
    if x.size < 2 or np.ptp(x) == 0:
        return None
    slope, intercept = np.polyfit(x, y, 1)
    return float(slope), float(intercept)


def _span(values: np.ndarray) -> tuple[float, float]:
    low, high = float(values.min()), float(values.max())
    pad = (high - low) * 0.08 or max(abs(low) * 0.1, 1.0)
    return low - pad, high + pad


def scatter_plot(
    labels: Sequence[str],
    x: np.ndarray,
    y: np.ndarray,
    *,
    x_title: str,
    y_title: str,
    identifier: str = "scatter",
    width: int = 340,
    height: int = 250,
) -> str:
    """One point per unit with its label as tooltip, and the least-squares line.

    `identifier` must be unique on the page (it names the clip path of the plot area).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size == 0:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="40">'
            '<text x="4" y="24" font-size="12">No unit has values for both metrics.</text></svg>'
        )
    frame = _Frame(width, height, _span(x), _span(y))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="scatter" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">'
        f"<title>{escape(y_title)} against {escape(x_title)}, one point per unit</title>",
        f'<rect x="{frame.left}" y="{frame.top}" width="{frame.plot_width}" '
        f'height="{frame.plot_height}" fill="#fff" stroke="#d0d7de"/>',
        _axis_labels(frame, x_title, y_title),
        _fit_line(frame, _fit(x, y), escape(f"{identifier}-area")),
    ]
    for label, x_value, y_value in zip(labels, x, y, strict=True):
        px, py = frame.place(x_value, y_value)
        parts.append(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="#1f2328" fill-opacity="0.65">'
            f"<title>{escape(label)}: {x_value:.3g}, {y_value:.3g}</title></circle>"
        )
    return "".join(parts) + "</svg>"


@dataclass(frozen=True)
class _Frame:
    """Plot area inside the SVG and the data ranges it shows."""

    width: int
    height: int
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    left: int = 48
    top: int = 12
    right: int = 12
    bottom: int = 40

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom

    def place(self, x: float, y: float) -> tuple[float, float]:
        (x_low, x_high), (y_low, y_high) = self.x_range, self.y_range
        return (
            self.left + (x - x_low) / (x_high - x_low) * self.plot_width,
            self.top + (1 - (y - y_low) / (y_high - y_low)) * self.plot_height,
        )


def _fit_line(frame: _Frame, fit: tuple[float, float] | None, clip: str) -> str:
    if fit is None:
        return ""
    slope, intercept = fit
    (x1, y1), (x2, y2) = (frame.place(x, slope * x + intercept) for x in frame.x_range)
    return (
        f'<clipPath id="{clip}"><rect x="{frame.left}" y="{frame.top}" '
        f'width="{frame.plot_width}" height="{frame.plot_height}"/></clipPath>'
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#0969da" '
        f'stroke-width="1.5" clip-path="url(#{clip})"/>'
    )


def _axis_labels(frame: _Frame, x_title: str, y_title: str) -> str:
    (x_low, x_high), (y_low, y_high) = frame.x_range, frame.y_range
    (x0, y0), (x1, y1) = frame.place(x_low, y_low), frame.place(x_high, y_high)
    middle = (y0 + y1) / 2
    return (
        f'<text x="{x0:.1f}" y="{y0 + 14:.1f}" font-size="10">{x_low:.3g}</text>'
        f'<text x="{x1:.1f}" y="{y0 + 14:.1f}" font-size="10" text-anchor="end">{x_high:.3g}</text>'
        f'<text x="{x0 - 4:.1f}" y="{y0:.1f}" font-size="10" text-anchor="end">{y_low:.3g}</text>'
        f'<text x="{x0 - 4:.1f}" y="{y1 + 10:.1f}" font-size="10" text-anchor="end">'
        f"{y_high:.3g}</text>"
        f'<text x="{(x0 + x1) / 2:.1f}" y="{frame.height - 6}" font-size="11" '
        f'text-anchor="middle">{escape(x_title)}</text>'
        f'<text x="12" y="{middle:.1f}" font-size="11" text-anchor="middle" '
        f'transform="rotate(-90 12 {middle:.1f})">{escape(y_title)}</text>'
    )
