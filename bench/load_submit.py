"""Load test: concurrent respondents against a running platform, from a light asyncio client.

Drives, one after the other in the same run and against the same server (--url):

- bare: POST /bench/bare-insert/ — middleware and one INSERT (the floor; the server runs
  with BENCH_ENDPOINTS=1, see cxsurvey/bench.py);
- api: POST /api/v1/submissions/ with JSON answers (the public API);
- form: the respondent page as a browser uses it — GET /s/<survey>/?u=<store> (CSRF cookie
  and token), then POST the form with an answer to every question (10 on the demo survey).

Each request opens its own connection (as phones do; gunicorn's sync workers close them).
For each mode it prints submissions/s, p50/p95/p99 latency (the form's POST; its GET is
reported beside it), the SQL statements per request (X-Sql-Statements), and the ratio to
the bare insert view's throughput, and (on Linux) the CPU each part of the stack spent per
submission: web server, PostgreSQL, Redis, Celery worker and this client, read from /proc
before and after the mode, so it shows where a 2-core machine's time goes. Then, reading the
server's database (DATABASE_URL), it
checks one complete response per accepted submission, and with --wait-scores polls until
the company's stored score counts every answer. With --fault-sql a statement (e.g.
terminating the server's PostgreSQL sessions) runs every --fault-every seconds.

    # server: PostgreSQL, Redis, gunicorn (make serve) and a worker; see BENCHMARKS.md
    .venv/bin/python bench/load_submit.py --url http://127.0.0.1:8103 --requests 3000

The survey (--survey, default `load-ten`) must be open to the public link; `load-ten`, ten
questions (NPS, CSAT, CES, four agreement items, a rating, a choice and a comment), is
created on first use on a seeded demo database. Exits non-zero when the database does not
match what the server answered.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxsurvey.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from cxsurvey.bench import BARE_TABLE  # noqa: E402
from surveys.models import Answer, MetricValue, OrgUnit, Response, Survey  # noqa: E402

TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Reply:
    status: int
    seconds: float
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str:
        values = self.headers.get(name.lower(), [""])
        return values[0]


async def request(
    host: str, port: int, method: str, path: str, *, body: bytes = b"", headers: dict
) -> Reply:
    """One HTTP/1.1 exchange on a fresh connection; status 0 when it failed."""
    started = time.perf_counter()
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    try:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        raw = await reader.read()
        writer.close()
    except OSError:
        return Reply(0, time.perf_counter() - started)
    head, _, content = raw.partition(b"\r\n\r\n")
    header_lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(header_lines[0].split()[1])
    except (IndexError, ValueError):
        return Reply(0, time.perf_counter() - started)
    parsed: dict[str, list[str]] = {}
    for line in header_lines[1:]:
        name, _, value = line.partition(":")
        parsed.setdefault(name.strip().lower(), []).append(value.strip())
    return Reply(status, time.perf_counter() - started, parsed, content)


def ten_question_survey() -> Survey:
    """The load's own survey: ten questions, open, public link, any unit."""
    survey, created = Survey.objects.get_or_create(
        slug="load-ten",
        defaults={"title": "Load test", "audience": "customer", "kind": "transactional"},
    )
    if created:
        items = [
            ("nps", "nps", "load.nps"),
            ("csat", "csat", "load.csat"),
            ("ces", "ces", "load.ces"),
            *((f"agree_{n}", "likert", "") for n in range(1, 5)),
            ("stars", "rating", ""),
            ("goal", "single", "load.goal"),
            ("why", "text", ""),
        ]
        for order, (code, kind, key) in enumerate(items):
            question = survey.questions.create(
                code=code,
                type=kind,
                text=code,
                order=order,
                metric_key=key,
                min_value=1 if kind == "rating" else None,
                max_value=10 if kind == "rating" else None,
            )
            if kind == "single":
                question.choices.create(value="yes", label="Yes", score=1, order=0)
                question.choices.create(value="no", label="No", score=0, order=1)
        survey.status = Survey.Status.OPEN
        survey.save()
    return survey


def answers_for(survey: Survey, rng: random.Random) -> dict[str, object]:
    """A valid answer to every question (a short text for open ones)."""
    answers: dict[str, object] = {}
    for question in survey.questions.prefetch_related("choices"):
        low, high = question.bounds()
        if question.is_choice:
            values = [choice.value for choice in question.choices.all()]
            answers[question.code] = rng.choice(values) if question.type == "single" else values[:1]
        elif low is not None and high is not None:
            answers[question.code] = rng.randint(int(low), int(high))
        elif question.type == "number":
            answers[question.code] = rng.randint(0, 50)
        else:
            answers[question.code] = "Quick and friendly."
    return answers


class Load:
    """Runs one mode's submissions with at most `concurrency` in flight."""

    def __init__(self, options: argparse.Namespace, survey: Survey, stores: list[str]) -> None:
        split = urlsplit(options.url)
        self.host, self.port = split.hostname or "127.0.0.1", split.port or 80
        self.options, self.survey, self.stores = options, survey, stores
        self.rng = random.Random(options.seed)

    async def bare(self, _: int) -> tuple[Reply, Reply | None]:
        return await request(self.host, self.port, "POST", "/bench/bare-insert/", headers={}), None

    async def api(self, _: int) -> tuple[Reply, Reply | None]:
        body = json.dumps(
            {
                "survey": self.survey.slug,
                "unit": self.rng.choice(self.stores),
                "answers": answers_for_cached(self),
            }
        ).encode()
        headers = {"Content-Type": "application/json"}
        reply = await request(
            self.host, self.port, "POST", "/api/v1/submissions/", body=body, headers=headers
        )
        return reply, None

    async def form(self, _: int) -> tuple[Reply, Reply | None]:
        path = f"/s/{self.survey.slug}/?u={self.rng.choice(self.stores)}"
        page = await request(self.host, self.port, "GET", path, headers={})
        found = TOKEN.search(page.body)
        cookies = [value.split(";")[0] for value in page.headers.get("set-cookie", [])]
        if page.status != 200 or found is None:
            return Reply(page.status or 0, page.seconds), page
        fields: list[tuple[str, str]] = [("csrfmiddlewaretoken", found.group(1).decode())]
        for code, value in answers_for_cached(self).items():
            for item in value if isinstance(value, list) else [value]:
                fields.append((f"q_{code}", str(item)))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(cookies),
        }
        body = urlencode(fields).encode()
        reply = await request(self.host, self.port, "POST", path, body=body, headers=headers)
        return reply, page

    async def run(self, mode: str, count: int) -> tuple[list[tuple[Reply, Reply | None]], float]:
        action = getattr(self, mode)
        gate = asyncio.Semaphore(self.options.concurrency)

        async def one(index: int) -> tuple[Reply, Reply | None]:
            async with gate:
                return await action(index)

        started = time.perf_counter()
        results = await asyncio.gather(*(one(index) for index in range(count)))
        return list(results), time.perf_counter() - started


_ANSWERS: list[dict[str, object]] = []


def answers_for_cached(load: Load) -> dict[str, object]:
    """Answer sets drawn before the clock starts, cycled through."""
    answer = _ANSWERS[load.rng.randrange(len(_ANSWERS))]
    return answer


# Processes of each part of the stack, by what their command line contains.
ROLES = {
    "web": ("gunicorn", "granian", "runserver"),
    "postgres": ("postgres",),
    "redis": ("redis-server",),
    "worker": ("celery",),
}


def cpu_seconds_by_role() -> dict[str, float]:
    """CPU seconds (user + system) so far of every process of each role, and of this one."""
    totals = dict.fromkeys([*ROLES, "client"], 0.0)
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        seconds = (int(fields[11]) + int(fields[12])) / ticks
        if int(entry.name) == os.getpid():
            totals["client"] += seconds
            continue
        for role, needles in ROLES.items():
            if any(needle in command for needle in needles):
                totals[role] += seconds
                break
    return totals


def cpu_line(before: dict[str, float], after: dict[str, float], count: int) -> str:
    spent = {role: 1000 * (after[role] - before[role]) / max(count, 1) for role in before}
    parts = ", ".join(f"{role} {ms:.2f}" for role, ms in spent.items())
    return f"       CPU ms per submission: {parts} (total {sum(spent.values()):.2f})"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(mode: str, results, elapsed: float, floor: float | None) -> tuple[float, int]:
    accepted_status = {"bare": 201, "api": 201, "form": 302}[mode]
    statuses = Counter(reply.status for reply, _ in results)
    accepted = statuses.get(accepted_status, 0)
    rate = accepted / elapsed
    latencies = [reply.seconds for reply, _ in results if reply.status == accepted_status]
    sql = [int(reply.header("x-sql-statements") or -1) for reply, _ in results if reply.status]
    line = f"{mode:>5}: {accepted:,} in {elapsed:.2f} s = {rate:,.0f}/s"
    if latencies:
        line += (
            f", p50 {1000 * statistics.median(latencies):.0f} ms"
            f", p95 {1000 * percentile(latencies, 0.95):.0f} ms"
            f", p99 {1000 * percentile(latencies, 0.99):.0f} ms"
        )
    if sql and min(sql) >= 0:
        line += f", SQL/request median {statistics.median(sql):.0f} (max {max(sql)})"
    if floor:
        line += f", ratio to bare {rate / floor:.2f}"
    print(line)
    pages = [page for _, page in results if page is not None]
    if pages:
        gets = [page.seconds for page in pages if page.status == 200]
        get_sql = [int(page.header("x-sql-statements") or -1) for page in pages]
        print(
            f"       its GET: p50 {1000 * statistics.median(gets):.0f} ms, "
            f"p95 {1000 * percentile(gets, 0.95):.0f} ms, "
            f"SQL median {statistics.median(get_sql):.0f}"
        )
    others = {status: n for status, n in statuses.items() if status != accepted_status}
    if others:
        print(f"       other statuses: {others} (0 = no HTTP answer)")
    return rate, accepted


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
        time.sleep(0.2)
    state = "caught up" if scored == expected else "NOT caught up"
    print(
        f"scores {state} {waited:.1f} s after the load ended: {question.metric_key} at "
        f"{company.code} {period} counts {scored:,} of {expected:,} answers"
    )
    return scored == expected


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--survey", default="load-ten")
    parser.add_argument("--modes", default="bare,api,form", help="comma-separated, in order")
    parser.add_argument("--requests", type=int, default=3000, help="per mode")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=100, help="per mode, not timed")
    parser.add_argument("--fault-sql", default="")
    parser.add_argument("--fault-every", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--wait-scores", type=float, default=0.0)
    return parser.parse_args()


def main() -> int:
    options = parse_options()
    if options.survey == "load-ten":
        survey = ten_question_survey()
    else:
        survey = Survey.objects.get(slug=options.survey)
    stores = list(OrgUnit.objects.filter(level=OrgUnit.Level.STORE).values_list("code", flat=True))
    rng = random.Random(options.seed)
    _ANSWERS.extend(answers_for(survey, rng) for _ in range(500))
    per_response = len(_ANSWERS[0])
    modes = [mode.strip() for mode in options.modes.split(",") if mode.strip()]
    if "bare" in modes:
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE UNLOGGED TABLE IF NOT EXISTS {BARE_TABLE} "
                "(id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())"
            )
    watermark = Response.objects.order_by("-id").values_list("id", flat=True).first() or 0
    print(
        f"{options.requests:,} submissions per mode, {options.concurrency} in flight, "
        f"{per_response} answers each, {options.url}; load average before: "
        + " ".join(f"{value:.1f}" for value in os.getloadavg())
    )
    stop, faults = threading.Event(), Counter()
    fault_thread = None
    if options.fault_sql:
        fault_thread = threading.Thread(
            target=run_fault, args=(options.fault_sql, options.fault_every, stop, faults)
        )
        fault_thread.start()
    load = Load(options, survey, stores)
    floor, submitted = None, 0
    for mode in modes:
        if options.warmup:
            warm, _ = asyncio.run(load.run(mode, options.warmup))
            submitted += sum(reply.status in (201, 302) for reply, _ in warm) * (mode != "bare")
        before = cpu_seconds_by_role() if sys.platform == "linux" else None
        results, elapsed = asyncio.run(load.run(mode, options.requests))
        rate, accepted = report(mode, results, elapsed, floor)
        if before is not None:
            print(cpu_line(before, cpu_seconds_by_role(), accepted))
        if mode == "bare":
            floor = rate
        else:
            submitted += accepted
    load_ended = time.perf_counter()
    stop.set()
    if fault_thread:
        fault_thread.join()
        print(f"faults injected: {faults['faults']} × {options.fault_sql!r}")
    print("load average after: " + " ".join(f"{value:.1f}" for value in os.getloadavg()))
    agrees = check_database(survey, watermark, submitted, per_response)
    if options.wait_scores:
        agrees = wait_for_scores(survey, options.wait_scores, load_ended) and agrees
    return 0 if agrees else 1


if __name__ == "__main__":
    sys.exit(main())
