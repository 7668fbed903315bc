"""Benchmark the leader and workspace pages and their JSON against the raw SQL they need.

The pages: each unit page, the leader dashboard and scorecards, the linkage review, the
responses and one customer's pathway, at 1,000,000 answers.

Seeds (with `bench_scoring.seed`: COPY, seeded RNG) 1,000,000 NPS answers, one per response,
over 1,000 stores in 20 regions and 12 months, gives
every response a customer id (200,000 customers), scores every cell (`recompute_all`), then
imports a revenue outcome per store and month and computes a store-level linkage run over the
two (also with --skip-seed when the data has no such run yet), then
requests each page in-process through Django's test client as a leader (middleware, session,
templates, no network) --repeat times, and each page's raw SQL (the rows it shows, read
with hand-written SQL) as often. Prints p50/p95 per page and the ratio of p95s.

    createdb cx_bench_dashboard   # any empty database; the script migrates it
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cx_bench_dashboard \\
        .venv/bin/python bench/bench_dashboard.py [--answers 1000000 --repeat 30]

Target: p95 under 200 ms for every page and JSON.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxsurvey.settings")
os.environ.setdefault("DEBUG", "1")
os.environ["CELERY_BROKER_URL"] = ""

import numpy as np  # noqa: E402
from bench_scoring import METRIC_KEY, SLUG, seed  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from common.roles import LEADERSHIP_GROUP  # noqa: E402
from linkage.models import LinkageResult, LinkageRun  # noqa: E402
from linkage.services.runs import compute_linkage_run, start_linkage_run  # noqa: E402
from surveys import periods  # noqa: E402
from surveys.models import Metric, MetricValue, OrgUnit, Response  # noqa: E402
from surveys.services.metrics import ensure_metrics  # noqa: E402
from surveys.services.scores import recompute_all  # noqa: E402

REVENUE_KEY = "outcome.revenue"

RAW: dict[str, str | tuple[str, ...]] = {
    # The unit page's reads in one statement: the unit's own cells, its children's and the
    # stores' below at the latest month, and the children's last 12 months (heat map).
    "unit": """
        SELECT mv.metric_id, mv.unit_id, u.path, u.level, mv.period, mv.value, mv.ci_low,
               mv.ci_high, mv.n, mv.suppressed, mv.details
        FROM surveys_metricvalue mv JOIN surveys_orgunit u ON u.id = mv.unit_id
        JOIN surveys_metric m ON m.id = mv.metric_id
        WHERE m.level = 'tactical' AND (
          u.id = %(unit)s
          OR (u.path LIKE %(path)s AND mv.period = %(latest)s
              AND (u.parent_id = %(unit)s OR u.level IN ('store', 'team')))
          OR (u.parent_id = %(unit)s AND mv.period >= %(first)s))""",
    # The responses page: its 50 newest rows with score and comment, and the count.
    "responses": """
        SELECT r.id, r.submitted_at, r.period,
          (SELECT a.number FROM surveys_answer a WHERE a.response_id = r.id LIMIT 1),
          (SELECT count(*) FROM surveys_response r2 JOIN surveys_orgunit u2
             ON u2.id = r2.unit_id WHERE u2.path LIKE %(path)s)
        FROM surveys_response r JOIN surveys_orgunit u ON u.id = r.unit_id
        WHERE u.path LIKE %(path)s ORDER BY r.submitted_at DESC, r.id DESC LIMIT 50""",
    # A deep page of the same listing: the 50 rows older than a cursor, and the count.
    "responses deep": """
        SELECT r.id, r.submitted_at, r.period,
          (SELECT a.number FROM surveys_answer a WHERE a.response_id = r.id LIMIT 1),
          (SELECT count(*) FROM surveys_response r2 JOIN surveys_orgunit u2
             ON u2.id = r2.unit_id WHERE u2.path LIKE %(path)s)
        FROM surveys_response r JOIN surveys_orgunit u ON u.id = r.unit_id
        WHERE u.path LIKE %(path)s AND (r.submitted_at, r.id) < (%(at)s, %(id)s)
        ORDER BY r.submitted_at DESC, r.id DESC LIMIT 50""",
    # The leader dashboard (and the readings JSON): the unit's own overall measures over the
    # last 12 months and the store cells below at the latest two (the change tests).
    "dashboard": """
        SELECT mv.metric_id, mv.unit_id, mv.period, mv.value, mv.ci_low, mv.ci_high, mv.n,
               mv.suppressed, mv.details
        FROM surveys_metricvalue mv JOIN surveys_orgunit u ON u.id = mv.unit_id
        JOIN surveys_metric m ON m.id = mv.metric_id
        WHERE m.level = 'tactical' AND (
          (u.id = %(unit)s AND mv.period >= %(first)s)
          OR (u.path LIKE %(path)s AND u.level = 'store' AND mv.period >= %(previous)s))""",
    # A scorecard: every measure of the unit over 12 months, the stores' latest two.
    "scorecard": """
        SELECT mv.metric_id, mv.unit_id, mv.period, mv.value, mv.ci_low, mv.ci_high, mv.n,
               mv.suppressed, mv.details
        FROM surveys_metricvalue mv JOIN surveys_orgunit u ON u.id = mv.unit_id
        WHERE (u.id = %(unit)s AND mv.period >= %(first)s)
          OR (u.path LIKE %(path)s AND u.level = 'store' AND mv.period >= %(previous)s)""",
    # The linkage review: the run's pairs with their metrics.
    "linkage": """
        SELECT r.*, x.key, x.name, y.key, y.name FROM linkage_linkageresult r
        JOIN surveys_metric x ON x.id = r.x_metric_id JOIN surveys_metric y ON y.id = r.y_metric_id
        WHERE r.run_id = %(run)s ORDER BY r.q""",
    # The review with one pair's scatter: the pairs, then the two metrics' store panel.
    "linkage pair": (
        """SELECT r.*, x.key, x.name, y.key, y.name FROM linkage_linkageresult r
        JOIN surveys_metric x ON x.id = r.x_metric_id JOIN surveys_metric y ON y.id = r.y_metric_id
        WHERE r.run_id = %(run)s ORDER BY r.q""",
        """SELECT mv.metric_id, mv.unit_id, u.code, mv.period, mv.value
        FROM surveys_metricvalue mv JOIN surveys_orgunit u ON u.id = mv.unit_id
        WHERE mv.metric_id IN (%(x)s, %(y)s) AND u.level = 'store'
          AND mv.period BETWEEN %(first)s AND %(last)s""",
    ),
    # One response and its customer's other responses.
    "response": """
        SELECT r.id, r.submitted_at, a.number, a.text FROM surveys_response r
        JOIN surveys_answer a ON a.response_id = r.id
        WHERE r.respondent_key = (SELECT respondent_key FROM surveys_response WHERE id = %(id)s)
        ORDER BY r.submitted_at""",
}


def forget_linkage() -> None:
    """Drop the bench's runs and imported outcomes before a reseed (its units are deleted with
    foreign-key triggers off, so nothing may still point at them)."""
    LinkageRun.objects.filter(metric_keys__contains=[METRIC_KEY]).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM surveys_metricvalue WHERE unit_id IN "
            "(SELECT id FROM surveys_orgunit WHERE code LIKE 'bench-%%')"
        )


def prepare(answers: int) -> None:
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    forget_linkage()
    seed(answers, regions=20, stores_per_region=50, periods=12, seed_value=7)
    with connection.cursor() as cursor:
        # Customer ids: 200,000 customers with five responses each on average.
        cursor.execute(
            "UPDATE surveys_response SET respondent_key = 'C-' || (id %% 200000) "
            "WHERE survey_id = (SELECT id FROM surveys_survey WHERE slug = %s)",
            [SLUG],
        )
        cursor.execute("ANALYZE")
    Metric.objects.filter(key=METRIC_KEY).update(level=Metric.Level.TACTICAL, name="Bench NPS")
    recompute_all()
    print(f"seeded and scored {answers:,} answers in {time.perf_counter() - started:.1f} s")


def import_revenue(seed_value: int = 11) -> None:
    """Revenue per store and month that rises with the store's NPS (seeded), as an outcome
    import would store it."""
    ensure_metrics([REVENUE_KEY])
    revenue = Metric.objects.get(key=REVENUE_KEY)
    cells = MetricValue.objects.filter(
        metric__key=METRIC_KEY, unit__level=OrgUnit.Level.STORE, suppressed=False
    ).values_list("unit_id", "period", "value")
    rng = np.random.default_rng(seed_value)
    MetricValue.objects.bulk_create(
        [
            MetricValue(
                metric=revenue,
                unit_id=unit_id,
                period=period,
                value=float(200_000 + 1_500 * (value or 0) + rng.normal(0, 20_000)),
                n=1,
                source=MetricValue.Source.IMPORTED,
            )
            for unit_id, period, value in cells
        ],
        batch_size=2_000,
        ignore_conflicts=True,
    )


def ensure_linkage_run() -> LinkageRun:
    """The bench's done store-level run of NPS and revenue; computed here when missing."""
    run = LinkageRun.objects.filter(
        status=LinkageRun.Status.DONE, metric_keys__contains=[METRIC_KEY, REVENUE_KEY]
    ).first()
    if run is not None:
        return run
    started = time.perf_counter()
    import_revenue()
    run = start_linkage_run(
        created_by=None, metric_keys=[METRIC_KEY, REVENUE_KEY], max_lag=1, enqueue=False
    )
    compute_linkage_run(run.pk)
    run.refresh_from_db()
    assert run.status == LinkageRun.Status.DONE, (run.status, run.error)
    took = time.perf_counter() - started
    print(f"linkage run {run.pk} over {run.n_units} stores computed in {took:.1f} s")
    return run


def leader_client() -> Client:
    user, _ = User.objects.get_or_create(username="bench-leader")
    user.groups.add(Group.objects.get_or_create(name=LEADERSHIP_GROUP)[0])
    client = Client()
    client.force_login(user)
    return client


def timings(function, repeat: int) -> np.ndarray:
    function()  # warm caches and connections once
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return np.array(times) * 1000


def raw(name: str, params: dict) -> None:
    statements = RAW[name]
    with connection.cursor() as cursor:
        for statement in (statements,) if isinstance(statements, str) else statements:
            cursor.execute(statement, params)
            cursor.fetchall()


def get(client: Client, url: str) -> None:
    answer = client.get(url)
    assert answer.status_code == 200, (url, answer.status_code)


Page = tuple[str, str, str, dict]  # label, URL, raw statement, its parameters


def unit_params(unit: OrgUnit, latest: str) -> dict:
    first, previous = periods.shift(latest, -11), periods.shift(latest, -1)
    return {"path": f"{unit.path}%", "unit": unit.pk, "latest": latest, "first": first,
            "previous": previous}  # fmt: skip


def unit_pages(units: list[OrgUnit], latest: str) -> list[Page]:
    """The workspace unit page and its JSON, the leader dashboard and the scorecard of each
    unit, and one unit's readings JSON."""
    pages = []
    for unit in units:
        params = unit_params(unit, latest)
        pages += [
            (f"unit page {unit.level}", f"/workspace/units/{unit.code}/", "unit", params),
            (f"unit JSON {unit.level}", f"/workspace/units/{unit.code}/data.json", "unit", params),
            (f"dashboard {unit.level}", f"/dashboard/?unit={unit.code}", "dashboard", params),
            (f"scorecard {unit.level}", f"/dashboard/units/{unit.code}/scorecard/", "scorecard",
             params),
        ]  # fmt: skip
    region = units[1]
    url = f"/dashboard/units/{region.code}/readings.json"
    return [*pages, ("readings JSON region", url, "scorecard", unit_params(region, latest))]


def linkage_pages(run: LinkageRun) -> list[Page]:
    """The run's review page, and the page with its strongest pair's scatter (the only data
    the page loads; it fetches no JSON)."""
    result = LinkageResult.objects.filter(run=run).order_by("q", "pk").first()
    assert result is not None
    params = {"run": run.pk, "x": result.x_metric_id, "y": result.y_metric_id,
              "first": run.first_period, "last": run.last_period}  # fmt: skip
    url = f"/workspace/linkage/{run.pk}/"
    return [
        ("linkage review", url, "linkage", params),
        ("linkage review + scatter", f"{url}?pair={result.pk}", "linkage pair", params),
    ]


DEEP_ROW = 40_000  # a page this far into a region's newest-first responses (keyset cursor)


def drill_pages(region: OrgUnit, store: OrgUnit) -> list[Page]:
    response = Response.objects.filter(unit=store).order_by("-submitted_at", "-pk").first()
    assert response is not None
    pages: list[Page] = [
        (f"responses {unit.level}", f"/workspace/units/{unit.code}/responses/", "responses",
         {"path": f"{unit.path}%"})
        for unit in (region, store)
    ]  # fmt: skip
    newest_first = Response.objects.filter(unit__path__startswith=region.path).order_by(
        "-submitted_at", "-pk"
    )
    deep = newest_first.values_list("pk", "submitted_at")[DEEP_ROW : DEEP_ROW + 1].get()
    url = f"/workspace/units/{region.code}/responses/?older={deep[0]}"
    params = {"path": f"{region.path}%", "id": deep[0], "at": deep[1]}
    pages.append((f"responses region, row {DEEP_ROW:,}", url, "responses deep", params))
    url = f"/workspace/responses/{response.pk}/"
    return [*pages, ("one response + pathway", url, "response", {"id": response.pk})]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--skip-seed", action="store_true", help="reuse the seeded data")
    options = parser.parse_args()
    if not options.skip_seed:
        prepare(options.answers)
    run = ensure_linkage_run()
    client = leader_client()
    units = [OrgUnit.objects.get(code=code) for code in ("bench-co", "bench-r0", "bench-r0-s0")]
    labels = MetricValue.objects.filter(metric__key=METRIC_KEY).values_list("period", flat=True)
    pages = unit_pages(units, max(labels)) + linkage_pages(run) + drill_pages(*units[1:])
    print(f"{'page':<28} {'p50 ms':>8} {'p95 ms':>8} {'raw p95':>8} {'ratio':>6}")
    worst = 0.0
    for label, url, raw_name, params in pages:
        page = timings(lambda url=url: get(client, url), options.repeat)
        limit = timings(lambda n=raw_name, p=params: raw(n, p), options.repeat)
        p95, raw95 = np.percentile(page, 95), np.percentile(limit, 95)
        worst = max(worst, p95)
        print(
            f"{label:<28} {np.percentile(page, 50):8.1f} {p95:8.1f} {raw95:8.1f} {p95 / raw95:6.1f}"
        )
    print(f"worst p95: {worst:.1f} ms (target < 200 ms)")
    sys.exit(0 if worst < 200 else 1)


if __name__ == "__main__":
    main()
