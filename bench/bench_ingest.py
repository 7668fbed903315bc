"""Benchmark bulk ingest and streaming export through the REST API against raw PostgreSQL COPY.

1. Ingest: 100,000 responses × 10 answers are posted to
   POST /api/v1/surveys/{slug}/responses/bulk/ in batches of 10,000 with DRF's APIClient
   (in-process WSGI: the whole Django stack — middleware, token authentication, JSON parsing,
   shape checks, `import_responses` — but no network). Bodies are JSON-encoded before the
   clock starts. The baseline COPYs the same rows into the same tables (response ids taken
   from the sequence, then `COPY surveys_response` and `COPY surveys_answer`), converting
   the same row dicts to tuples inside the timed part. Score recomputes are the worker's
   job and are switched off on both sides.
2. Export: the same responses are streamed by GET …/responses/export.csv (one row per
   response, answers pivoted by SQL) and compared with `COPY (SELECT <same pivot>) TO
   STDOUT (FORMAT csv)`, best of three runs each after VACUUM ANALYZE (so neither side
   pays for setting hint bits on the fresh rows). Peak Python memory (tracemalloc) is
   taken in a separate pass, for one region (a tenth of the rows) and for all rows:
   constant memory means the two peaks are alike although the output is ten times larger.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cx_bench_api \
        .venv/bin/python bench/bench_ingest.py [--responses 100000 --batch 10000]

Needs PostgreSQL; the database is created (and its survey tables emptied) by the script.
Targets: both ratios ≥ 0.3 of COPY.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cx_bench_api"
os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
os.environ.setdefault("SECRET_KEY", "benchmark-only-key")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxsurvey.settings")
os.environ["CELERY_BROKER_URL"] = ""  # eager mode; the recompute itself is switched off below

import psycopg  # noqa: E402

QUESTION_TYPES = (
    *(("nps", "nps"), ("csat", "csat"), ("ces", "ces"), ("likert_1", "likert")),
    *(("likert_2", "likert"), ("likert_3", "likert"), ("rating", "rating")),
    *(("spend", "number"), ("channel", "single"), ("comment", "text")),
)
CHANNELS = ("web", "store", "phone")
RESPONSE_COPY_COLUMNS = (
    "id, survey_id, unit_id, period, respondent_key, external_id, channel, segment, language, "
    "submitted_at"
)
COMMENTS = ("Great service", "=too slow", "Friendly staff, long queue", "", "-ok-")


def create_database(url: str) -> None:
    """CREATE DATABASE if it does not exist yet (connecting to the postgres database)."""
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if exists.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')


def setup_django():
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from surveys.services import submissions

    submissions.queue_recompute = lambda **kwargs: True  # a worker's job, not measured


def seed(regions: int, stores_per_region: int):
    """A company with regions and stores, a survey with 10 questions, a staff token."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    stores = seed_units(regions, stores_per_region)
    survey = seed_survey()
    user, _ = get_user_model().objects.get_or_create(
        username="bench-owner", defaults={"is_staff": True, "is_superuser": True}
    )
    token, _ = Token.objects.get_or_create(user=user)
    return survey, stores, token.key


def seed_units(regions: int, stores_per_region: int) -> list:
    from surveys.models import OrgUnit

    company, _ = OrgUnit.objects.get_or_create(
        code="bench", defaults={"name": "Bench", "level": "company"}
    )
    stores = []
    for region_index in range(regions):
        region, _ = OrgUnit.objects.get_or_create(
            code=f"bench-r{region_index}",
            defaults={"name": f"R{region_index}", "level": "region", "parent": company},
        )
        for store_index in range(stores_per_region):
            store, _ = OrgUnit.objects.get_or_create(
                code=f"bench-r{region_index}-s{store_index}",
                defaults={"name": f"S{store_index}", "level": "store", "parent": region},
            )
            stores.append(store)
    return stores


def seed_survey():
    from surveys.models import Choice, Question, Survey

    fields = {"title": "Bench", "audience": "customer", "kind": "relationship", "status": "open"}
    survey, created = Survey.objects.get_or_create(slug="bench-ingest", defaults=fields)
    if not created:
        return survey
    for order, (code, kind) in enumerate(QUESTION_TYPES):
        bounds = {"min_value": 1, "max_value": 10} if kind == "rating" else {}
        question = Question.objects.create(
            survey=survey, code=code, type=kind, order=order, text=code, required=False, **bounds
        )
        if kind == "single":
            for value in CHANNELS:
                Choice.objects.create(question=question, value=value, label=value)
    return survey


def generate_rows(count: int, stores, seed_value: int) -> list[dict]:
    """Seeded rows in the bulk API's shape, spread over six months of 2026."""
    rng = random.Random(seed_value)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    codes = [store.code for store in stores]
    rows = []
    for _ in range(count):
        moment = start + timedelta(seconds=rng.randrange(180 * 86400))
        answers = {
            "nps": rng.randint(0, 10),
            "csat": rng.randint(1, 5),
            "ces": rng.randint(1, 7),
            "likert_1": rng.randint(1, 5),
            "likert_2": rng.randint(1, 5),
            "likert_3": rng.randint(1, 5),
            "rating": rng.randint(1, 10),
            "spend": round(rng.uniform(0, 500), 2),
            "channel": rng.choice(CHANNELS),
            "comment": rng.choice(COMMENTS),
        }
        rows.append(
            {"unit": rng.choice(codes), "submitted_at": moment.isoformat(), "answers": answers}
        )
    return rows


SURVEY_TABLES = (
    *("surveys_answer_choices", "surveys_answer", "surveys_response"),
    *("surveys_dirtyscorecell", "common_idempotencyrecord"),
)


def empty_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(SURVEY_TABLES)}")


def analyse_tables() -> None:
    """Hint bits, visibility map and planner statistics, as autovacuum would leave them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE surveys_response, surveys_answer")


def ingest_through_api(rows: list[dict], slug: str, token: str, batch: int) -> float:
    from rest_framework.test import APIClient

    client = APIClient()
    url = f"/api/v1/surveys/{slug}/responses/bulk/"
    bodies = [
        json.dumps({"responses": rows[i : i + batch]}).encode() for i in range(0, len(rows), batch)
    ]
    started = time.perf_counter()
    for body in bodies:
        response = client.post(
            url, body, content_type="application/json", headers={"Authorization": f"Token {token}"}
        )
        if response.status_code != 201:
            raise SystemExit(
                f"bulk request failed: {response.status_code} {response.content[:500]!r}"
            )
    return time.perf_counter() - started


def ingest_by_copy(rows: list[dict], survey) -> float:
    """The same rows with COPY: ids from the sequence, then both tables in one transaction."""
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval('surveys_response_id_seq') FROM generate_series(1, %s)", [len(rows)]
        )
        ids = [row[0] for row in cursor.fetchall()]
        copy_responses(cursor, ids, rows, survey)
        copy_answers(cursor, ids, rows, survey)
    return time.perf_counter() - started


def copy_responses(cursor, ids: list[int], rows: list[dict], survey) -> None:
    from surveys.models import OrgUnit
    from surveys.periods import label_for

    units = dict(OrgUnit.objects.values_list("code", "pk"))
    with cursor.copy(f"COPY surveys_response ({RESPONSE_COPY_COLUMNS}) FROM STDIN") as copy:
        for response_id, row in zip(ids, rows, strict=True):
            moment = datetime.fromisoformat(row["submitted_at"])
            unit_id, period = units[row["unit"]], label_for(moment, "month")
            copy.write_row(
                (response_id, survey.pk, unit_id, period, "", "", "api", "{}", "", moment)
            )


def copy_answers(cursor, ids: list[int], rows: list[dict], survey) -> None:
    from surveys.models import Choice

    questions = {question.code: question for question in survey.questions.all()}
    choices = dict(Choice.objects.filter(question__survey=survey).values_list("value", "pk"))
    columns = "response_id, question_id, number, text, choice_id"
    with cursor.copy(f"COPY surveys_answer ({columns}) FROM STDIN") as copy:
        for response_id, row in zip(ids, rows, strict=True):
            for code, value in row["answers"].items():
                question = questions[code]
                if question.type == "single":
                    copy.write_row((response_id, question.pk, None, "", choices[value]))
                elif question.type == "text":
                    copy.write_row((response_id, question.pk, None, value, None))
                else:
                    copy.write_row((response_id, question.pk, float(value), "", None))


def export_through_api(slug: str, token: str, query: str = "") -> tuple[float, int, int]:
    """Seconds, bytes and data rows of the streamed CSV export."""
    from rest_framework.test import APIClient

    client = APIClient()
    started = time.perf_counter()
    response = client.get(
        f"/api/v1/surveys/{slug}/responses/export.csv{query}",
        headers={"Authorization": f"Token {token}"},
    )
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    return time.perf_counter() - started, size, lines - 1


def export_by_copy(survey) -> tuple[float, int, int]:
    """COPY of the same pivot (one row per response, one column per question) as CSV."""
    from django.db import connection

    columns = []
    for question in survey.questions.order_by("order", "id"):
        source = {"single": "c.value", "text": "a.text"}.get(question.type, "a.number")
        columns.append(f"max({source}) FILTER (WHERE a.question_id = {question.pk})")
    sql = (
        "COPY (SELECT r.id, r.submitted_at, u.code, r.period, r.channel, r.respondent_key, "
        f"r.external_id, r.language, r.segment, {', '.join(columns)} "
        "FROM surveys_response r JOIN surveys_orgunit u ON u.id = r.unit_id "
        "LEFT JOIN surveys_answer a ON a.response_id = r.id "
        "LEFT JOIN surveys_choice c ON c.id = a.choice_id "
        f"WHERE r.survey_id = {survey.pk} GROUP BY r.id, u.code ORDER BY r.id) "
        "TO STDOUT (FORMAT csv, HEADER)"
    )
    started = time.perf_counter()
    size = lines = 0
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for chunk in copy:
            size += len(chunk)
            lines += bytes(chunk).count(b"\n")
    return time.perf_counter() - started, size, lines - 1


def peak_memory(function) -> int:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--regions", type=int, default=10)
    parser.add_argument("--stores-per-region", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20260101)
    options = parser.parse_args()

    create_database(os.environ["DATABASE_URL"])
    setup_django()
    survey, stores, token = seed(options.regions, options.stores_per_region)
    rows = generate_rows(options.responses, stores, options.seed)
    answers = sum(len(row["answers"]) for row in rows)
    print(f"rows: {len(rows):,} responses, {answers:,} answers; batches of {options.batch:,}")
    try:
        compare_ingest(rows, survey, token, options.batch)
        compare_export(survey, token, len(rows), region=stores[0].parent.code)
    finally:
        empty_tables()


def compare_ingest(rows: list[dict], survey, token: str, batch: int) -> None:
    empty_tables()
    copy_seconds = ingest_by_copy(rows, survey)
    empty_tables()
    api_seconds = ingest_through_api(rows, survey.slug, token, batch)
    report("ingest", len(rows), api_seconds, copy_seconds, unit="responses")


def compare_export(survey, token: str, count: int, *, region: str) -> None:
    analyse_tables()
    api_runs = [export_through_api(survey.slug, token) for _ in range(3)]
    copy_runs = [export_by_copy(survey) for _ in range(3)]
    api_seconds, api_bytes, api_lines = min(api_runs)
    copy_seconds, copy_bytes, copy_lines = min(copy_runs)
    assert api_lines == copy_lines == count, (api_lines, copy_lines)
    report("export", api_lines, api_seconds, copy_seconds, unit="rows")
    print(f"export sizes: API {api_bytes / 1e6:.1f} MB, COPY {copy_bytes / 1e6:.1f} MB")
    small = peak_memory(lambda: export_through_api(survey.slug, token, f"?unit={region}"))
    full = peak_memory(lambda: export_through_api(survey.slug, token))
    print(
        f"export peak Python memory (tracemalloc): one region {small / 1e6:.1f} MB, "
        f"all rows {full / 1e6:.1f} MB (output {api_bytes / 1e6:.1f} MB)"
    )


def report(what: str, count: int, api_seconds: float, copy_seconds: float, *, unit: str) -> None:
    api_rate, copy_rate = count / api_seconds, count / copy_seconds
    print(f"{what} API  {api_seconds:7.2f} s  {api_rate:10,.0f} {unit}/s")
    print(f"{what} COPY {copy_seconds:7.2f} s  {copy_rate:10,.0f} {unit}/s")
    print(f"{what} ratio API/COPY {api_rate / copy_rate:.2f} (target ≥ 0.30)")


if __name__ == "__main__":
    main()
