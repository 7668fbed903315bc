"""Benchmark the workspace pages and their JSON at 1,000,000 answers against the raw SQL
each page needs.

Seeds (with `bench_scoring.seed`: COPY, seeded RNG) 1,000,000 NPS answers, one per response,
over 1,000 stores in 20 regions and 12 months, gives
every response a customer id (200,000 customers), scores every cell (`recompute_all`), then
requests each page in-process through Django's test client as a leader (middleware, session,
templates, no network) --repeat times, and each page's raw SQL (the rows it shows, read
with one hand-written statement) as often. Prints p50/p95 per page and the ratio of p95s.

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
from surveys import periods  # noqa: E402
from surveys.models import Metric, MetricValue, OrgUnit, Response  # noqa: E402
from surveys.services.scores import recompute_all  # noqa: E402

RAW = {
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
    # One response and its customer's other responses.
    "response": """
        SELECT r.id, r.submitted_at, a.number, a.text FROM surveys_response r
        JOIN surveys_answer a ON a.response_id = r.id
        WHERE r.respondent_key = (SELECT respondent_key FROM surveys_response WHERE id = %(id)s)
        ORDER BY r.submitted_at""",
}


def prepare(answers: int) -> None:
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
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
    with connection.cursor() as cursor:
        cursor.execute(RAW[name], params)
        cursor.fetchall()


def get(client: Client, url: str) -> None:
    answer = client.get(url)
    assert answer.status_code == 200, (url, answer.status_code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--skip-seed", action="store_true", help="reuse the seeded data")
    options = parser.parse_args()
    if not options.skip_seed:
        prepare(options.answers)
    client = leader_client()
    company = OrgUnit.objects.get(code="bench-co")
    region = OrgUnit.objects.get(code="bench-r0")
    store = OrgUnit.objects.get(code="bench-r0-s0")
    response = Response.objects.filter(unit=store).order_by("-submitted_at", "-pk").first()
    assert response is not None
    pages = []
    labels = MetricValue.objects.filter(metric__key=METRIC_KEY).values_list("period", flat=True)
    latest = max(labels)
    first = periods.shift(latest, -11)
    for unit in (company, region, store):
        params = {"path": f"{unit.path}%", "unit": unit.pk, "latest": latest, "first": first}
        pages.append((f"unit page {unit.level}", f"/workspace/units/{unit.code}/", "unit", params))
        json_url = f"/workspace/units/{unit.code}/data.json"
        pages.append((f"unit JSON {unit.level}", json_url, "unit", params))
    for unit in (region, store):
        url = f"/workspace/units/{unit.code}/responses/"
        pages.append((f"responses {unit.level}", url, "responses", {"path": f"{unit.path}%"}))
    pages.append(
        ("one response + pathway", f"/workspace/responses/{response.pk}/", "response",
         {"id": response.pk})
    )  # fmt: skip
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
