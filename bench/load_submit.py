"""Load test: many concurrent respondents posting to a running platform over real HTTP.

Fires --requests public submissions (POST /api/v1/submissions/, the same `submit_response`
path as the respondent page) from --concurrency threads against --url, one new connection per
request as browsers on different phones would. Prints throughput, latency percentiles and the
status codes seen, then, reading the same database as the server (DATABASE_URL), checks that
exactly one Response with every answer exists per accepted submission and none for a refused
one: nothing lost, nothing half-written. Run it on a database only the load writes to. With
--fault-sql, a statement (e.g. terminating the server's PostgreSQL connections) runs every
--fault-every seconds during the load.

    PUBLIC_SUBMIT_RATE=100000/minute .venv/bin/gunicorn -w 4 cxsurvey.wsgi   # the server
    .venv/bin/python bench/load_submit.py --url http://127.0.0.1:8000 --requests 5000

The survey must be open and public (the demo's `northwind-customers`). Exits non-zero when
the database does not match what the server answered.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxsurvey.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from surveys.models import (  # noqa: E402
    Answer,
    MetricValue,  # noqa: E402
    OrgUnit,
    Response,
    Survey,
)


def answers_for(survey: Survey, rng: random.Random) -> dict[str, object]:
    """Valid answers to every scale and choice question (text left out, as most people do)."""
    answers: dict[str, object] = {}
    for question in survey.questions.prefetch_related("choices"):
        low, high = question.bounds()
        if question.is_choice:
            values = [choice.value for choice in question.choices.all()]
            answers[question.code] = rng.choice(values) if question.type == "single" else values[:1]
        elif low is not None and high is not None:
            answers[question.code] = rng.randint(int(low), int(high))
    return answers


def post(url: str, body: bytes, timeout: float) -> tuple[int, float]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            reply.read()
            status = reply.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError:
        status = 0  # connection refused, reset or timed out
    return status, time.perf_counter() - started


def run_fault(sql: str, every: float, stop: threading.Event, counter: Counter) -> None:
    """Run `sql` on its own connection every `every` seconds until `stop` is set."""
    import psycopg

    settings = connection.settings_dict
    dsn = f"dbname={settings['NAME']} user={settings['USER']} host={settings['HOST']}"
    dsn += f" port={settings['PORT'] or 5432}"
    with psycopg.connect(dsn, autocommit=True) as own:
        while not stop.wait(every):
            own.execute(sql)
            counter["faults"] += 1


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--survey", default="northwind-customers")
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--fault-sql", default="")
    parser.add_argument("--fault-every", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--wait-scores",
        type=float,
        default=0.0,
        help="then wait up to this many seconds for the company's score to count every answer",
    )
    return parser.parse_args()


def request_bodies(survey: Survey, count: int, seed: int) -> list[bytes]:
    """Valid submissions of the survey to random stores, encoded before the clock starts."""
    stores = list(OrgUnit.objects.filter(level=OrgUnit.Level.STORE).values_list("code", flat=True))
    rng = random.Random(seed)
    return [
        json.dumps(
            {"survey": survey.slug, "unit": rng.choice(stores), "answers": answers_for(survey, rng)}
        ).encode()
        for _ in range(count)
    ]


def run_load(
    options: argparse.Namespace, endpoint: str, bodies: list[bytes]
) -> tuple[list[tuple[int, float]], float, int]:
    """Post every body from the thread pool, with the fault thread running; (results, s, faults)."""
    stop, faults = threading.Event(), Counter()
    fault_thread = None
    if options.fault_sql:
        fault_thread = threading.Thread(
            target=run_fault, args=(options.fault_sql, options.fault_every, stop, faults)
        )
        fault_thread.start()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=options.concurrency) as pool:
        results = list(pool.map(lambda body: post(endpoint, body, options.timeout), bodies))
    elapsed = time.perf_counter() - started
    stop.set()
    if fault_thread:
        fault_thread.join()
    return results, elapsed, faults["faults"]


def report_http(results: list[tuple[int, float]], elapsed: float) -> Counter:
    statuses = Counter(status for status, _ in results)
    latencies = [seconds for status, seconds in results if status == 201]
    print(f"elapsed {elapsed:.2f} s, accepted {statuses.get(201, 0) / elapsed:,.0f} submissions/s")
    if latencies:
        print(
            f"latency of accepted: p50 {1000 * statistics.median(latencies):.0f} ms, "
            f"p95 {1000 * percentile(latencies, 0.95):.0f} ms, "
            f"p99 {1000 * percentile(latencies, 0.99):.0f} ms, max {1000 * max(latencies):.0f} ms"
        )
    print("status codes:", dict(sorted(statuses.items())), "(0 = no HTTP answer)")
    return statuses


def check_database(survey: Survey, watermark: int, accepted: int, per_response: int) -> bool:
    """One complete response per accepted submission, none for the others."""
    connection.close()  # a --fault-sql may have ended this process's own session too
    stored = Response.objects.filter(survey=survey, id__gt=watermark)
    stored_answers = Answer.objects.filter(response__in=stored).count()
    stored_count = stored.count()
    whole = stored_answers == stored_count * per_response
    print(
        f"database: {stored_count:,} responses, {stored_answers:,} answers "
        f"({'every response complete' if whole else 'INCOMPLETE RESPONSES'})"
    )
    agrees = whole and stored_count == accepted
    print("accepted == stored:", agrees)
    return agrees


def main() -> int:
    options = parse_options()
    survey = Survey.objects.get(slug=options.survey)
    bodies = request_bodies(survey, options.requests, options.seed)
    # Responses above this id are the load's own (run it on a database nobody else writes to).
    watermark = Response.objects.order_by("-id").values_list("id", flat=True).first() or 0
    endpoint = options.url.rstrip("/") + "/api/v1/submissions/"
    print(f"{options.requests:,} submissions, {options.concurrency} concurrent, {endpoint}")
    results, elapsed, faults = run_load(options, endpoint, bodies)
    load_ended = time.perf_counter()
    statuses = report_http(results, elapsed)
    if options.fault_sql:
        print(f"faults injected: {faults} × {options.fault_sql!r}")
    per_response = len(json.loads(bodies[0])["answers"])
    agrees = check_database(survey, watermark, statuses.get(201, 0), per_response)
    if options.wait_scores:
        agrees = wait_for_scores(survey, options.wait_scores, load_ended) and agrees
    return 0 if agrees else 1


def wait_for_scores(survey: Survey, timeout: float, load_ended: float) -> bool:
    """Poll until the top unit's score of the survey's first metric counts every answer."""
    question = survey.questions.exclude(metric_key="").order_by("order").first()
    company = OrgUnit.objects.filter(parent__isnull=True).order_by("path").first()
    period = survey.period_for(timezone.now())
    answers = Answer.objects.filter(question=question, response__period=period)
    values = MetricValue.objects.filter(metric__key=question.metric_key, period=period)
    while True:
        expected = answers.count()
        cell = values.filter(unit=company).first()
        scored = cell.n if cell else 0
        waited = time.perf_counter() - load_ended
        if scored == expected or waited > timeout:
            break
        time.sleep(0.5)
    state = "caught up" if scored == expected else "NOT caught up"
    print(
        f"scores {state} {waited:.1f} s after the load ended: {question.metric_key} at "
        f"{company.code} {period} counts {scored:,} of {expected:,} answers"
    )
    return scored == expected


if __name__ == "__main__":
    sys.exit(main())
