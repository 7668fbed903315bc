"""import_outcomes: outcome CSV import, line-numbered refusal, upsert and roll-up; the CLI."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from linkage.management.commands.import_outcomes import Command
from linkage.models import OutcomeImport
from linkage.services.outcomes import import_outcome_file
from surveys.models import Metric, MetricValue
from tests.factories import MetricFactory, MetricValueFactory

pytestmark = pytest.mark.django_db

HEADER = "unit_code,period,metric_key,value"
GOOD_LINES = [
    "n1,2026-01,outcome.revenue,100",
    "n2,2026-01,outcome.revenue,50.5",
    "s1,2026-01,outcome.revenue,30",
    "s2,2026-01,outcome.revenue,20",
    "n1,2026-01,outcome.retention_rate,80",
    "n2,2026-01,outcome.retention_rate,70",
    "s1,2026-01,outcome.retention_rate,60",
]


@pytest.fixture
def metrics(org_tree):
    outcome = Metric.Source.OUTCOME
    return {
        "revenue": MetricFactory(
            key="outcome.revenue", aggregation=Metric.Aggregation.SUM, source=outcome
        ),
        "retention": MetricFactory(
            key="outcome.retention_rate", aggregation=Metric.Aggregation.MEAN, source=outcome
        ),
        "nps": MetricFactory(key="customer.nps", aggregation=Metric.Aggregation.NPS),
    }


def stored(key: str, period: str = "2026-01") -> dict[str, float]:
    values = MetricValue.objects.filter(metric__key=key, period=period)
    return dict(values.values_list("unit__code", "value"))


def test_import_outcomes_writes_values_and_rolls_up_sums_and_means(metrics):
    record = import_outcome_file(lines=[HEADER, *GOOD_LINES], file_name="q1.csv")
    assert (record.status, record.lines_total, record.lines_written) == ("applied", 7, 7)
    revenue = stored("outcome.revenue")
    assert revenue == {
        **{"n1": 100, "n2": 50.5, "s1": 30, "s2": 20},
        **{"north": 150.5, "south": 50, "acme": 200.5},
    }
    retention = stored("outcome.retention_rate")
    assert retention["north"] == pytest.approx(75) and retention["south"] == pytest.approx(60)
    # The mean over the three stores with a value (70), never the unweighted mean of the
    # region means (67.5): each region counts by the stores under it (its n).
    assert retention["acme"] == pytest.approx(70.0)
    acme = MetricValue.objects.get(metric__key="outcome.retention_rate", unit__code="acme")
    assert acme.n == 3
    north = MetricValue.objects.get(metric__key="outcome.revenue", unit__code="north")
    assert north.source == "imported" and north.details == {"rolled_up_from": 2}


def test_import_outcomes_keeps_a_parents_own_value(metrics):
    import_outcome_file(lines=[HEADER, *GOOD_LINES[:4], "north,2026-01,outcome.revenue,999"])
    revenue = stored("outcome.revenue")
    assert revenue["north"] == 999 and revenue["acme"] == 999 + 50
    own = MetricValue.objects.get(metric__key="outcome.revenue", unit__code="north")
    assert own.details == {}


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("x9,2026-01,outcome.revenue,5", "unknown unit 'x9'"),
        ("n1,2026-01,outcome.footfall,5", "unknown metric 'outcome.footfall'"),
        ("n1,2026-13,outcome.revenue,5", "'2026-13' is not a period"),
        ("n1,2026-01,outcome.revenue,lots", "value 'lots' is not a number"),
        ("n1,2026-01,outcome.revenue,nan", "value 'nan' is not a finite number"),
        ("n1,2026-01,outcome.revenue,inf", "value 'inf' is not a finite number"),
        ("n1,2026-01,outcome.revenue,", "value is missing"),
        ("n1,2026-01,outcome.revenue,7", "duplicate of line 2"),
        ("n1,2026-01,outcome.revenue", "missing columns"),
        ("n1,2026-01,outcome.revenue,5,extra", "extra columns"),
        ("n1,2026-01,customer.nps,5", "computed from survey answers"),
        ("n2,2026-Q1,outcome.revenue,5", "kept by month, but '2026-Q1' is a quarter"),
    ],
)
def test_import_outcomes_refuses_file_naming_the_bad_line(metrics, bad_line, message):
    lines = [HEADER, GOOD_LINES[0], GOOD_LINES[4], bad_line, GOOD_LINES[1]]
    record = import_outcome_file(lines=lines)
    assert record.status == OutcomeImport.Status.REFUSED and record.lines_written == 0
    assert [error["line"] for error in record.errors] == [4]
    assert message in record.errors[0]["message"]
    assert not MetricValue.objects.exists()


def test_import_outcomes_refuses_quarters_for_a_metric_stored_by_month(metrics):
    import_outcome_file(lines=[HEADER, GOOD_LINES[0]])
    record = import_outcome_file(lines=[HEADER, "n2,2026-Q2,outcome.revenue,5"])
    assert record.status == OutcomeImport.Status.REFUSED
    assert record.errors[0]["message"] == (
        "metric 'outcome.revenue' is kept by month, but '2026-Q2' is a quarter"
    )
    quarterly = import_outcome_file(lines=[HEADER, "n2,2026-Q2,outcome.retention_rate,5"])
    assert quarterly.status == OutcomeImport.Status.APPLIED  # a new metric may be quarterly


def test_import_outcomes_refuses_bad_header_even_when_skipping(metrics):
    record = import_outcome_file(lines=["unit,period,value", GOOD_LINES[0]], skip_bad=True)
    assert record.status == "refused" and record.errors[0]["line"] == 1
    assert "bad header" in record.errors[0]["message"]
    assert not MetricValue.objects.exists()


def test_import_outcomes_refuses_empty_file(metrics):
    record = import_outcome_file(lines=[])
    assert record.status == "refused" and "empty" in record.errors[0]["message"]


def test_import_outcomes_skip_bad_writes_the_good_lines(metrics):
    lines = [HEADER, GOOD_LINES[0], "zz,2026-01,outcome.revenue,1", GOOD_LINES[1]]
    record = import_outcome_file(lines=lines, skip_bad=True)
    assert (record.status, record.lines_total, record.lines_written) == ("partial", 3, 2)
    assert record.errors == [{"line": 3, "message": "unknown unit 'zz'"}]
    assert stored("outcome.revenue") == {"n1": 100, "n2": 50.5, "north": 150.5, "acme": 150.5}


def test_import_outcomes_reimport_changes_nothing(metrics):
    import_outcome_file(lines=[HEADER, *GOOD_LINES])
    columns = ("metric_id", "unit_id", "period", "value", "n", "details", "computed_at")
    before = sorted(MetricValue.objects.values_list(*columns))
    again = import_outcome_file(lines=[HEADER, *GOOD_LINES])
    assert again.status == "applied" and again.lines_written == 7
    assert sorted(MetricValue.objects.values_list(*columns)) == before


def test_import_outcomes_updates_changed_values_and_roll_ups(metrics):
    import_outcome_file(lines=[HEADER, *GOOD_LINES])
    import_outcome_file(lines=[HEADER, "n1,2026-01,outcome.revenue,200"])
    revenue = stored("outcome.revenue")
    assert (revenue["n1"], revenue["north"], revenue["acme"]) == (200, 250.5, 300.5)


def test_import_outcomes_create_metrics_adds_outcome_metrics(metrics):
    lines = [
        HEADER,
        "n1,2026-Q1,outcome.footfall,1200",
        "n2,2026-Q1,outcome.footfall,800",
        "n1,2026-Q1,outcome.profit,10",
    ]
    record = import_outcome_file(lines=lines, create_metrics=True)
    assert record.status == "applied"
    footfall = Metric.objects.get(key="outcome.footfall")
    assert (footfall.source, footfall.aggregation) == ("outcome", "mean")
    assert Metric.objects.get(key="outcome.profit").aggregation == "sum"  # from the catalogue
    assert stored("outcome.footfall", "2026-Q1")["north"] == 1000


def test_import_outcomes_create_metrics_rejects_malformed_keys(metrics):
    record = import_outcome_file(lines=[HEADER, "n1,2026-01,Foot Fall,3"], create_metrics=True)
    assert record.status == "refused" and "is not valid" in record.errors[0]["message"]
    assert not Metric.objects.filter(name__icontains="foot").exists()


def test_import_outcomes_reads_bytes_with_byte_order_mark(metrics):
    lines = [("\ufeff" + HEADER + "\r\n").encode(), b"n1,2026-01,outcome.revenue,5\r\n"]
    record = import_outcome_file(lines=lines)
    assert record.status == "applied" and stored("outcome.revenue")["n1"] == 5


def test_import_outcomes_counts_a_line_that_is_not_utf8_in_the_total(metrics):
    latin = "n\xf6,2026-01,outcome.revenue,1".encode("latin-1")
    lines = [HEADER.encode(), b"n1,2026-01,outcome.revenue,5", latin]
    record = import_outcome_file(lines=lines)
    assert (record.status, record.lines_total, record.lines_written) == ("refused", 2, 0)
    assert record.errors == [{"line": 3, "message": "not UTF-8 text"}]


def test_import_outcomes_command_prints_bad_lines_and_fails(metrics, tmp_path):
    path = tmp_path / "outcomes.csv"
    path.write_text("\n".join([HEADER, GOOD_LINES[0], "x,2026-01,outcome.revenue,1"]) + "\n")
    errors = StringIO()
    with pytest.raises(CommandError, match="refused"):
        call_command("import_outcomes", str(path), stdout=StringIO(), stderr=errors)
    assert "line 3: unknown unit 'x'" in errors.getvalue()
    assert not MetricValue.objects.exists()
    with pytest.raises(SystemExit) as exit_status:
        Command(stdout=StringIO(), stderr=StringIO()).run_from_argv(
            ["manage.py", "import_outcomes", str(path), "--skip-checks"]
        )
    assert exit_status.value.code == 1


def test_import_outcomes_command_skip_bad_prints_summary(metrics, tmp_path):
    path = tmp_path / "outcomes.csv"
    path.write_text("\n".join([HEADER, GOOD_LINES[0], "x,2026-01,outcome.revenue,1"]) + "\n")
    output = StringIO()
    call_command("import_outcomes", str(path), "--skip-bad", stdout=output, stderr=StringIO())
    assert "1 of 2 lines written" in output.getvalue()
    assert stored("outcome.revenue")["n1"] == 100


def test_import_outcomes_command_reports_missing_file(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_outcomes", str(tmp_path / "absent.csv"))


def test_import_outcomes_does_not_roll_up_over_computed_values(metrics, org_tree):
    MetricValueFactory(metric=metrics["revenue"], unit=org_tree["north"], value=1, period="2026-01")
    import_outcome_file(lines=[HEADER, *GOOD_LINES[:4]])
    assert stored("outcome.revenue")["north"] == 1


# ------------------------------------------------------------------ rates with a denominator

DENOMINATOR_HEADER = f"{HEADER},denominator"
RETENTION_LINES = [  # retention (%) and the customers it is taken over
    "n1,2026-01,outcome.retention_rate,80,1000",
    "n2,2026-01,outcome.retention_rate,70,3000",
    "s1,2026-01,outcome.retention_rate,60,500",
    "s2,2026-01,outcome.retention_rate,90,500",
]


@pytest.fixture
def rate(metrics):
    Metric.objects.filter(key="outcome.retention_rate").update(aggregation=Metric.Aggregation.RATE)
    return metrics


def denominators(key: str) -> dict[str, float | None]:
    values = MetricValue.objects.filter(metric__key=key, period="2026-01")
    return {value.unit.code: value.details.get("denominator") for value in values}


def test_import_outcomes_weights_rates_by_their_denominator(rate):
    record = import_outcome_file(lines=[DENOMINATOR_HEADER, *RETENTION_LINES])
    assert (record.status, record.lines_written) == ("applied", 4)
    retention = stored("outcome.retention_rate")
    # By hand: north (80·1000 + 70·3000) / 4000 = 72.5; south (60·500 + 90·500) / 1000 = 75;
    # company 365,000 / 5,000 = 73.0 — not the region mean 73.75, nor the store mean 75.
    assert retention["north"] == pytest.approx(72.5, rel=1e-12)
    assert retention["south"] == pytest.approx(75.0, rel=1e-12)
    assert retention["acme"] == pytest.approx(73.0, rel=1e-12)
    assert denominators("outcome.retention_rate") == {
        **{"n1": 1000, "n2": 3000, "s1": 500, "s2": 500},
        **{"north": 4000, "south": 1000, "acme": 5000},
    }
    acme = MetricValue.objects.get(metric__key="outcome.retention_rate", unit__code="acme")
    assert acme.n == 4 and acme.details["rolled_up_from"] == 2


def test_import_outcomes_without_denominator_keeps_unit_weighting(rate):
    lines = [line.rsplit(",", 1)[0] for line in RETENTION_LINES]
    import_outcome_file(lines=[HEADER, *lines])
    assert stored("outcome.retention_rate")["acme"] == pytest.approx(75.0)  # mean of 4 stores
    assert set(denominators("outcome.retention_rate").values()) == {None}


def test_import_outcomes_denominator_column_may_be_left_empty_for_a_whole_metric(rate):
    lines = [*RETENTION_LINES, "n1,2026-01,outcome.revenue,100,", "n2,2026-01,outcome.revenue,5,"]
    record = import_outcome_file(lines=[DENOMINATOR_HEADER, *lines])
    assert record.status == "applied" and stored("outcome.revenue")["north"] == 105


def test_import_outcomes_reimport_with_new_denominators_updates_roll_ups(rate):
    import_outcome_file(lines=[DENOMINATOR_HEADER, *RETENTION_LINES])
    changed = [*RETENTION_LINES[:3], "s2,2026-01,outcome.retention_rate,90,1500"]
    import_outcome_file(lines=[DENOMINATOR_HEADER, *changed])
    # south (60·500 + 90·1500) / 2000 = 82.5; company (290,000 + 165,000) / 6,000
    assert stored("outcome.retention_rate")["south"] == pytest.approx(82.5, rel=1e-12)
    assert stored("outcome.retention_rate")["acme"] == pytest.approx(455_000 / 6_000, rel=1e-12)
    again = import_outcome_file(lines=[DENOMINATOR_HEADER, *changed])
    assert again.status == "applied"


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("n1,2026-02,outcome.retention_rate,80,0", "denominator '0' must be greater than 0"),
        ("n1,2026-02,outcome.retention_rate,80,-12", "denominator '-12' must be greater than 0"),
        ("n1,2026-02,outcome.retention_rate,80,many", "denominator 'many' is not a number"),
        ("n1,2026-02,outcome.retention_rate,80,inf", "denominator 'inf' is not a finite number"),
        ("n1,2026-02,outcome.retention_rate,80,nan", "denominator 'nan' is not a finite number"),
        ("n1,2026-02,outcome.retention_rate,80,", "denominator is missing; line 2 gives one"),
        ("n1,2026-02,outcome.revenue,80,10", "is a sum, which takes no denominator"),
        ("n1,2026-02,outcome.retention_rate,80", "missing columns"),
    ],
)
def test_import_outcomes_refuses_a_bad_denominator_by_its_line(rate, bad_line, message):
    lines = [DENOMINATOR_HEADER, *RETENTION_LINES, bad_line]
    record = import_outcome_file(lines=lines)
    assert record.status == "refused" and not MetricValue.objects.exists()  # all or nothing
    assert [error["line"] for error in record.errors] == [6]
    assert message in record.errors[0]["message"]


def test_import_outcomes_command_reads_the_denominator_column(rate, tmp_path):
    path = tmp_path / "retention.csv"
    path.write_text("\n".join([DENOMINATOR_HEADER, *RETENTION_LINES]) + "\n")
    call_command("import_outcomes", str(path), stdout=StringIO(), stderr=StringIO())
    assert stored("outcome.retention_rate")["acme"] == pytest.approx(73.0, rel=1e-12)
    assert "denominator" in Command().help
