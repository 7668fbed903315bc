"""Benchmark the scoring aggregation against hand-written SQL GROUP BYs (the raw limit).

Seeds N NPS answers (one per response) into the configured database — COPY on PostgreSQL,
executemany elsewhere — spread over a company → regions → stores tree and several monthly
periods, with a seeded RNG. Then, on the same database, it times (best of --repeat):

- ours: `compute_cells` for the metric — the ORM GROUP BY, the numpy roll-up to every level,
  vectorised NPS and CI, suppression — i.e. the aggregation of every cell;
- raw: one SQL statement computing the same n / promoters / detractors for every unit at
  every level × period (GROUP BY answering unit, then one roll-up per depth); and, for
  comparison, the naive raw form that scans the answers once per depth;
- recompute_all end to end: cold (every MetricValue written) and warm (nothing changed,
  so nothing is rewritten).

It prints the times and the ratio ours/raw, and exits non-zero if any count differs. Use a
database of its own, migrated first (earlier bench data is replaced, nothing else touched):

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/cx_bench
    .venv/bin/python manage.py migrate && .venv/bin/python bench/bench_scoring.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxsurvey.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from surveys.aggregation import UnitTree, compute_cells, metric_feeds  # noqa: E402
from surveys.models import (  # noqa: E402
    UNIT_PATH_SEGMENT,
    MetricValue,  # noqa: E402
    OrgUnit,
    Question,
    Survey,
)
from surveys.services.metrics import ensure_metrics_for_questions  # noqa: E402
from surveys.services.scores import recompute_all  # noqa: E402

SLUG = "bench-scoring"
METRIC_KEY = "bench.nps"
CHUNK = 250_000
# A realistic NPS mix: about 45 % promoters, 30 % passives, 25 % detractors.
SCORE_WEIGHTS = np.array([2, 1, 1, 2, 2, 5, 12, 14, 16, 20, 25], dtype=float)


def wipe() -> None:
    """Remove an earlier run's rows with raw deletes (the ORM would cascade row by row)."""
    statements = [
        "DELETE FROM surveys_answer WHERE question_id IN (SELECT q.id FROM surveys_question q "
        "JOIN surveys_survey s ON s.id = q.survey_id WHERE s.slug = %(slug)s)",
        "DELETE FROM surveys_response WHERE survey_id IN "
        "(SELECT id FROM surveys_survey WHERE slug = %(slug)s)",
        "DELETE FROM surveys_dirtyscorecell WHERE survey_id IN "
        "(SELECT id FROM surveys_survey WHERE slug = %(slug)s)",
        "DELETE FROM surveys_metricvalue WHERE metric_id IN "
        "(SELECT id FROM surveys_metric WHERE key = %(key)s)",
        "DELETE FROM surveys_question WHERE survey_id IN "
        "(SELECT id FROM surveys_survey WHERE slug = %(slug)s)",
        "DELETE FROM surveys_survey WHERE slug = %(slug)s",
    ] + [
        f"DELETE FROM surveys_orgunit WHERE code LIKE 'bench-%%' AND depth = {d}" for d in (3, 2, 1)
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        skip_foreign_key_triggers(cursor)
        for statement in statements:
            cursor.execute(statement, {"slug": SLUG, "key": METRIC_KEY})


def skip_foreign_key_triggers(cursor) -> None:
    """Per-row foreign-key triggers dominate a million-row load or delete on PostgreSQL; the
    bench's rows are consistent by construction, so skip them for this transaction (needs a
    superuser; otherwise the triggers simply run)."""
    if connection.vendor != "postgresql":
        return
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    if cursor.fetchone()[0]:
        cursor.execute("SET LOCAL session_replication_role = replica")


def build_tree(regions: int, stores_per_region: int) -> list[int]:
    """Company → regions → stores through the model (paths kept by save); store ids."""
    company = OrgUnit.objects.create(code="bench-co", name="Bench", level=OrgUnit.Level.COMPANY)
    stores = []
    for region_number in range(regions):
        region = OrgUnit.objects.create(
            code=f"bench-r{region_number}",
            name=f"Region {region_number}",
            level=OrgUnit.Level.REGION,
            parent=company,
        )
        for store_number in range(stores_per_region):
            code = f"bench-r{region_number}-s{store_number}"
            stores.append(OrgUnit.objects.create(code=code, name=code, parent=region).pk)
    return stores


def next_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
        return int(cursor.fetchone()[0])


def insert(table: str, columns: list[str], rows: Iterator[list[tuple]]) -> None:
    """Bulk insert: COPY on PostgreSQL, executemany elsewhere, chunk by chunk."""
    with transaction.atomic(), connection.cursor() as cursor:
        skip_foreign_key_triggers(cursor)
        for chunk in rows:
            if connection.vendor == "postgresql":
                text = "".join("\t".join(map(str, row)) + "\n" for row in chunk)
                copy_sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
                with cursor.cursor.copy(copy_sql) as copy:
                    copy.write(text)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", chunk
                )
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT MAX(id) FROM {table}))"
            )


def seed(answers: int, regions: int, stores_per_region: int, periods: int, seed_value: int):
    """Fresh tree, survey, NPS question and `answers` responses (one answer each)."""
    wipe()
    with transaction.atomic():
        store_ids = np.array(build_tree(regions, stores_per_region))
    survey = Survey.objects.create(
        title="Benchmark", slug=SLUG, audience="customer", kind="relationship", status="open"
    )
    question = Question.objects.create(
        survey=survey, code="nps", type="nps", text="Recommend us?", metric_key=METRIC_KEY
    )
    ensure_metrics_for_questions([question])
    rng = np.random.default_rng(seed_value)
    units = rng.choice(store_ids, answers)
    labels = np.array([f"2025-{month:02d}" for month in range(1, periods + 1)])
    period_labels = labels[rng.integers(0, periods, answers)]
    scores = rng.choice(11, answers, p=SCORE_WEIGHTS / SCORE_WEIGHTS.sum())
    insert_responses(survey.pk, question.pk, units, period_labels, scores)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def insert_responses(survey_id, question_id, units, period_labels, scores) -> None:
    """One response per answer, with explicit ids so the answers can point at them."""
    first_response, first_answer = next_id("surveys_response"), next_id("surveys_answer")
    stamp = datetime(2025, 6, 1, tzinfo=UTC).isoformat()
    columns = "id survey_id unit_id period respondent_key external_id channel segment language"
    insert(
        "surveys_response",
        [*columns.split(), "submitted_at"],
        chunks(
            lambda start, stop: [
                (first_response + i, survey_id, int(units[i]), period_labels[i])
                + ("", "", "web", "{}", "", stamp)
                for i in range(start, stop)
            ],
            len(scores),
        ),
    )
    insert(
        "surveys_answer",
        ["id", "response_id", "question_id", "number", "text"],
        chunks(
            lambda start, stop: [
                (first_answer + i, first_response + i, question_id, float(scores[i]), "")
                for i in range(start, stop)
            ],
            len(scores),
        ),
    )


def chunks(make: Callable[[int, int], list[tuple]], total: int) -> Iterator[list[tuple]]:
    for start in range(0, total, CHUNK):
        yield make(start, min(start + CHUNK, total))


def raw_rollup_sql(max_depth: int) -> str:
    """Hand-written limit: GROUP BY answering unit once, then re-group per ancestor depth."""
    per_depth = " UNION ALL ".join(
        f"SELECT substr(path, 1, {depth * UNIT_PATH_SEGMENT}) AS ancestor, period, "
        f"SUM(n), SUM(promoters), SUM(detractors) FROM placed WHERE depth >= {depth} "
        f"GROUP BY 1, 2"
        for depth in range(1, max_depth + 1)
    )
    return (
        "WITH leaf AS (SELECT r.unit_id, r.period, COUNT(*) AS n, "
        "SUM(CASE WHEN a.number >= 9 THEN 1 ELSE 0 END) AS promoters, "
        "SUM(CASE WHEN a.number <= 6 THEN 1 ELSE 0 END) AS detractors "
        "FROM surveys_answer a JOIN surveys_response r ON r.id = a.response_id "
        "WHERE a.question_id = %s AND a.number IS NOT NULL GROUP BY r.unit_id, r.period), "
        "placed AS (SELECT u.path, u.depth, leaf.* FROM leaf "
        "JOIN surveys_orgunit u ON u.id = leaf.unit_id) " + per_depth
    )


def raw_per_depth_sql(max_depth: int) -> str:
    """The naive raw form: scan the answers once per depth, grouping by the path prefix."""
    return " UNION ALL ".join(
        f"SELECT substr(u.path, 1, {depth * UNIT_PATH_SEGMENT}), r.period, COUNT(*), "
        "SUM(CASE WHEN a.number >= 9 THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN a.number <= 6 THEN 1 ELSE 0 END) "
        "FROM surveys_answer a JOIN surveys_response r ON r.id = a.response_id "
        "JOIN surveys_orgunit u ON u.id = r.unit_id "
        f"WHERE a.question_id = %s AND a.number IS NOT NULL AND u.depth >= {depth} GROUP BY 1, 2"
        for depth in range(1, max_depth + 1)
    )


def run_raw(sql: str, question_id: int) -> dict:
    """Execute a raw statement; map ancestor paths to unit ids for the comparison."""
    with connection.cursor() as cursor:
        cursor.execute(sql, [question_id] * sql.count("%s"))
        rows = cursor.fetchall()
    ids = dict(OrgUnit.objects.values_list("path", "id"))
    return {(ids[path], period): (int(n), int(p), int(d)) for path, period, n, p, d in rows}


def ours_as_counts(cells) -> dict:
    statistics = cells.statistics.astype(np.int64).tolist()
    return {
        (unit_id, period): tuple(row[:3])
        for unit_id, period, row in zip(
            cells.unit_ids.tolist(), cells.periods.tolist(), statistics, strict=True
        )
    }


def best_time(function: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Fastest wall time of `repeat` runs and the last result."""
    [(best, result)] = best_times([function], repeat)
    return best, result


def best_times(functions: list[Callable[[], object]], repeat: int) -> list[tuple[float, object]]:
    """Fastest wall time and last result of each function, the runs interleaved (A B C A B C
    …) so a burst of load from other processes does not fall on one contender only."""
    times: list[list[float]] = [[] for _ in functions]
    results: list[object] = [None] * len(functions)
    for _ in range(repeat):
        for index, function in enumerate(functions):
            start = time.perf_counter()
            results[index] = function()
            times[index].append(time.perf_counter() - start)
    return [(min(runs), result) for runs, result in zip(times, results, strict=True)]


def main() -> None:
    """Seed (unless --no-seed), time ours against the raw SQL, compare, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--regions", type=int, default=20)
    parser.add_argument("--stores-per-region", type=int, default=50)
    parser.add_argument("--periods", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=5, help="best of this many runs each")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--no-seed", action="store_true", help="reuse the last run's data")
    args = parser.parse_args()
    if not args.no_seed:
        started = time.perf_counter()
        seed(args.answers, args.regions, args.stores_per_region, args.periods, args.seed)
        print(f"seeded {args.answers:,} answers in {time.perf_counter() - started:.1f} s")
    report(args.repeat)


def report(repeat: int) -> None:
    """Time ours, the two raw forms and recompute_all on the seeded data; compare counts."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # JIT compiles only the plans costed above jit_above_cost, which can single out
            # one of two equivalent statements; off, both are timed on the same footing.
            cursor.execute("SET jit = off")
    feed = metric_feeds([METRIC_KEY])[0]
    depth = max(OrgUnit.objects.filter(code__startswith="bench-").values_list("depth", flat=True))
    answers = Question.objects.get(id=feed.question_ids[0]).answers.count()
    units = OrgUnit.objects.filter(code__startswith="bench-").count()
    print(
        f"{connection.vendor}: {answers:,} answers, {units} units, depth {depth}, best of {repeat}"
    )
    question_id = feed.question_ids[0]
    (ours, cells), (raw, raw_counts), (naive, naive_counts) = best_times(
        [
            lambda: compute_cells(feed, tree=UnitTree.load()),
            lambda: run_raw(raw_rollup_sql(depth), question_id),
            lambda: run_raw(raw_per_depth_sql(depth), question_id),
        ],
        repeat,
    )
    MetricValue.objects.filter(metric=feed.metric).delete()
    cold, written = best_time(recompute_all, 1)
    warm, _ = best_time(recompute_all, 1)
    ours_counts = ours_as_counts(cells)
    print(f"ours (compute_cells)      {ours:7.3f} s  {len(cells):,} cells, all levels × periods")
    print(f"raw SQL (leaf + roll-up)  {raw:7.3f} s")
    print(f"raw SQL (scan per depth)  {naive:7.3f} s")
    print(f"ratio ours / raw          {ours / raw:7.2f}")
    print(f"recompute_all, cold       {cold:7.3f} s  ({written:,} MetricValues written)")
    print(f"recompute_all, warm       {warm:7.3f} s  (unchanged cells not rewritten)")
    agree = ours_counts == raw_counts == naive_counts
    print(f"counts agree              {agree}")
    if not agree:
        sys.exit("the aggregation disagrees with the raw SQL")


if __name__ == "__main__":
    main()
