"""Trend chart data (`linkage.presentation.trend_chart`/`trend_rows`), shared by the leader
dashboard, the scorecard and the workspace's unit page: hidden months are gaps that carry
nothing, months before the first reading are not drawn."""

from linkage.leadership_selectors import Point
from linkage.presentation import trend_chart, trend_rows
from surveys.models import Metric

NPS = Metric(key="customer.nps", name="Customer NPS", aggregation=Metric.Aggregation.NPS)
POINTS = [
    Point("2026-01", None),
    Point("2026-02", None, hidden=True),
    Point("2026-03", 12.0, False, 4.0, 20.0, 140),
    Point("2026-04", None),
    Point("2026-05", 18.0, False, 10.0, 26.0, 150),
]


def test_trend_chart_starts_at_the_first_reading_and_keeps_hidden_months_as_gaps():
    chart = trend_chart(NPS, POINTS, "chart-0", target=25.0, agreed="2026-01")
    assert chart["labels"] == ["2026-02", "2026-03", "2026-04", "2026-05"]
    assert chart["values"] == [None, 12.0, None, 18.0]
    assert chart["low"] == [None, 4.0, None, 10.0] and chart["high"] == [None, 20.0, None, 26.0]
    assert chart["n"] == [None, 140, None, 150]
    assert chart["hidden"] == [True, False, False, False]
    assert chart["agreed"] is None  # 2026-01 is not drawn, so it is not marked
    assert chart["target"] == 25.0 and chart["yTitle"] == "Customer NPS (−100 to +100)"


def test_trend_chart_never_carries_a_hidden_cells_numbers():
    leaky = Point("2026-06", 40.0, True, 30.0, 50.0, 3)  # a hidden cell that kept its numbers
    chart = trend_chart(NPS, [*POINTS, leaky], "chart-0")
    assert chart["values"][-1] is None and chart["n"][-1] is None
    assert chart["low"][-1] is None and chart["high"][-1] is None
    row = trend_rows(NPS, [*POINTS, leaky])[-1]
    assert row == {"period": "2026-06", "hidden": True, "value": "not enough responses"}


def test_trend_rows_read_month_value_interval_and_n():
    rows = trend_rows(NPS, POINTS)
    assert [row["period"] for row in rows] == ["2026-02", "2026-03", "2026-04", "2026-05"]
    assert rows[1] == {"period": "2026-03", "value": "+12", "interval": "+4 to +20", "n": 140}
    assert rows[2] == {"period": "2026-04", "empty": True, "value": "no data"}
