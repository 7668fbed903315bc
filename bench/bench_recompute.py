"""Cost of bringing stored scores up to date after 1,000 new submissions, as a period grows.

For each period size (responses in one survey period: by default 30,000, 300,000 and
3,000,000) the period is filled with bulk SQL (`INSERT … SELECT generate_series`, NPS and
effort answers, 1,000 stores in 20 regions), its scores and per-cell statistics are built
once, then 1,000 new responses are added the way submissions add them (rows plus one
change-log row each) and timed (best of --repeat):

- incremental: the worker's pass (`apply_dirty_cell`): one GROUP BY over the 1,000 new
  responses, added to the stored statistics, the period rescored from one row per store;
- full: the same 1,000 new responses taken in by recomputing the period from raw answers
  (`recompute_cells`), the cost every pass paid before the change log.

The incremental time should stay flat while the full one grows with the period. PostgreSQL
only; use a database of its own, migrated first (earlier bench rows are replaced):

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/cx_bench_recompute
    .venv/bin/python manage.py migrate && .venv/bin/python bench/bench_recompute.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxsurvey.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from surveys.aggregation import recompute_cells  # noqa: E402
from surveys.models import DirtyScoreCell, MetricValue, OrgUnit, Question, Survey  # noqa: E402
from surveys.services.metrics import ensure_metrics_for_questions  # noqa: E402
from surveys.services.scores import apply_dirty_cell  # noqa: E402

SLUG = "bench-recompute"
PERIOD = "2026-03"
KEYS = ["bench.inc_nps", "bench.inc_ces"]


def execute(sql: str, params: dict | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})


def wipe() -> None:
    """Remove an earlier run's rows with set-based deletes."""
    with transaction.atomic():
        survey = "(SELECT id FROM surveys_survey WHERE slug = %(slug)s)"
        metrics = "(SELECT id FROM surveys_metric WHERE key = ANY(%(keys)s))"
        execute("SET LOCAL session_replication_role = replica")  # skip per-row FK triggers
        for statement in (
            f"DELETE FROM surveys_answer WHERE response_id IN "
            f"(SELECT id FROM surveys_response WHERE survey_id IN {survey})",
            f"DELETE FROM surveys_dirtyscorecell WHERE survey_id IN {survey}",
            f"DELETE FROM surveys_response WHERE survey_id IN {survey}",
            f"DELETE FROM surveys_metricvalue WHERE metric_id IN {metrics}",
            f"DELETE FROM surveys_cellstatistics WHERE metric_id IN {metrics}",
            f"DELETE FROM surveys_question WHERE survey_id IN {survey}",
            "DELETE FROM surveys_survey WHERE slug = %(slug)s",
            "DELETE FROM surveys_orgunit WHERE code LIKE 'bench-inc-%%'",
        ):
            execute(statement, {"slug": SLUG, "keys": KEYS})


def build() -> tuple[Survey, list[int]]:
    company = OrgUnit.objects.create(code="bench-inc-co", name="Bench", level="company")
    stores = []
    for region_number in range(20):
        region = OrgUnit.objects.create(
            code=f"bench-inc-r{region_number}",
            name=f"R{region_number}",
            level="region",
            parent=company,
        )
        for store_number in range(50):
            code = f"bench-inc-r{region_number}-s{store_number}"
            stores.append(OrgUnit.objects.create(code=code, name=code, parent=region).pk)
    survey = Survey.objects.create(
        title="Bench recompute",
        slug=SLUG,
        audience="customer",
        kind="transactional",
        status="open",
    )
    Question.objects.create(survey=survey, code="nps", type="nps", text="NPS", metric_key=KEYS[0])
    Question.objects.create(survey=survey, code="ces", type="ces", text="CES", metric_key=KEYS[1])
    ensure_metrics_for_questions()
    return survey, stores


def add_responses(survey: Survey, stores: list[int], count: int, *, logged: bool) -> None:
    """`count` responses with an NPS and an effort answer each, spread over the stores, in
    bulk SQL; `logged` also writes their change-log rows, as submissions do."""
    questions = dict(survey.questions.values_list("code", "id"))
    with transaction.atomic():
        execute("SET LOCAL session_replication_role = replica")
        execute(
            "CREATE TEMP TABLE new_responses ON COMMIT DROP AS "
            "WITH made AS (INSERT INTO surveys_response (survey_id, unit_id, period, "
            "respondent_key, external_id, channel, segment, language, submitted_at) "
            "SELECT %(survey)s, (%(stores)s::bigint[])[1 + (g %% %(n_stores)s)], %(period)s, "
            "'', '', 'api', '{}'::jsonb, '', now() FROM generate_series(1, %(count)s) g "
            "RETURNING id) SELECT id FROM made",
            {
                "survey": survey.pk,
                "stores": stores,
                "n_stores": len(stores),
                "period": PERIOD,
                "count": count,
            },
        )
        execute(
            "INSERT INTO surveys_answer (response_id, question_id, number, text) "
            "SELECT id, %(nps)s, floor(random() * 11), '' FROM new_responses UNION ALL "
            "SELECT id, %(ces)s, 1 + floor(random() * 7), '' FROM new_responses",
            {"nps": questions["nps"], "ces": questions["ces"]},
        )
        if logged:
            execute(
                "INSERT INTO surveys_dirtyscorecell (survey_id, period, response_id, marked_at) "
                "SELECT %(survey)s, %(period)s, id, now() FROM new_responses",
                {"survey": survey.pk, "period": PERIOD},
            )
    execute("ANALYZE surveys_response; ANALYZE surveys_answer")


def best(repeat: int, prepare, run) -> float:
    times = []
    for _ in range(repeat):
        prepare()
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="30000,300000,3000000")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    if connection.vendor != "postgresql":
        print("bench_recompute needs PostgreSQL (set DATABASE_URL)")
        return 2
    wipe()
    survey, stores = build()
    in_period = 0
    print(f"{'responses in period':>20} {'incremental (s)':>16} {'full (s)':>10} {'full/incr':>10}")
    for size in [int(size) for size in options.sizes.split(",")]:
        seeded = time.perf_counter()
        add_responses(survey, stores, size - in_period, logged=False)
        in_period = size
        recompute_cells(metric_keys=KEYS, periods=[PERIOD])  # builds statistics and values
        seeded = time.perf_counter() - seeded

        def new_batch() -> None:
            nonlocal in_period
            add_responses(survey, stores, options.batch, logged=True)
            in_period += options.batch

        incremental = best(
            options.repeat, new_batch, lambda: apply_dirty_cell(survey_id=survey.pk, period=PERIOD)
        )

        def batch_unlogged() -> None:
            new_batch()  # as before the change log: nothing pending, all from raw answers
            DirtyScoreCell.objects.filter(survey=survey).delete()

        full = best(
            options.repeat,
            batch_unlogged,
            lambda: recompute_cells(metric_keys=KEYS, periods=[PERIOD]),
        )
        company = MetricValue.objects.get(metric__key=KEYS[0], unit__code="bench-inc-co")
        assert company.n == in_period, (company.n, in_period)  # every answer counted
        print(
            f"{in_period:>20,} {incremental:>16.3f} {full:>10.3f} {full / incremental:>9.0f}×"
            f"   (seeded and built in {seeded:.0f} s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
