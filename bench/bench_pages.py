"""Benchmark deep pages of GET /api/v1/metric-values/: the first page against the last.

Seeds (once) a company with regions × stores and customer metrics for every store and
month (`--stores 500 --periods 24 --metrics 3` gives 36,000 values), then walks every page
of the listing by its `next` cursor with DRF's APIClient (in-process WSGI: the whole Django
stack, token authentication and SQL, no network). Prints p50/p95 of the first and last
`--sample` pages and the same-run ratio last/first. For contrast it times the SQL of the
former page-number listing (its ORDER BY chain stage, metric, unit, period with OFFSET) on
the first and last page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cx_bench_pages \
        .venv/bin/python bench/bench_pages.py [--stores 500 --periods 24 --metrics 3]

Needs PostgreSQL; the database is created by the script. Target: last page p95 within
1.2 × the first page's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cx_bench_pages"
os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
os.environ.setdefault("SECRET_KEY", "benchmark-only-key")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxsurvey.settings")
os.environ["CELERY_BROKER_URL"] = ""

import psycopg  # noqa: E402

URL = "/api/v1/metric-values/"


def create_database(url: str) -> None:
    """CREATE DATABASE if it does not exist yet (connecting to the postgres database)."""
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if exists.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')


def setup_django() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def seed(stores: int, periods: int, metrics: int) -> str:
    """Units, metrics and one value per metric × store × month (skipped when present)."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from surveys.models import Metric, MetricValue, OrgUnit

    user, _ = get_user_model().objects.get_or_create(
        username="bench-owner", defaults={"is_staff": True, "is_superuser": True}
    )
    token, _ = Token.objects.get_or_create(user=user)
    company, _ = OrgUnit.objects.get_or_create(
        code="bench", defaults={"name": "Bench", "level": "company"}
    )
    months = [f"{2024 + index // 12}-{index % 12 + 1:02d}" for index in range(periods)]
    keys = [f"customer.bench{index}" for index in range(metrics)]
    if MetricValue.objects.filter(metric__key__in=keys).count() == stores * periods * metrics:
        return token.key
    MetricValue.objects.filter(metric__key__in=keys).delete()
    regions = [
        OrgUnit.objects.get_or_create(
            code=f"bench-r{index}",
            defaults={"name": f"R{index}", "level": "region", "parent": company},
        )[0]
        for index in range(max(1, stores // 50))
    ]
    units = [
        OrgUnit.objects.get_or_create(
            code=f"bench-s{index}",
            defaults={
                "name": f"S{index}",
                "level": "store",
                "parent": regions[index % len(regions)],
            },
        )[0]
        for index in range(stores)
    ]
    for index, key in enumerate(keys):
        metric, _ = Metric.objects.get_or_create(
            key=key, defaults={"name": key, "aggregation": "mean", "chain_stage": index}
        )
        MetricValue.objects.bulk_create(
            MetricValue(metric=metric, unit=unit, period=month, value=50.0, n=40)
            for unit in units
            for month in months
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE surveys_metricvalue")
    return token.key


def walk_pages(token: str, page_size: int, query: str = "") -> list[float]:
    """Seconds per page, following `next` from the first page to the last (after one
    unmeasured request, so the first page does not pay for warming up)."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    seconds, url = [], f"{URL}?page_size={page_size}{query}"
    client.get(url, secure=True)
    while url:
        started = time.perf_counter()
        response = client.get(url, secure=True)  # production settings redirect http
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, (response.status_code, response.headers)
        url = response.json()["next"]
    return seconds


def offset_sql_seconds(page_size: int, page: int, repeat: int) -> float:
    """Median seconds of the former page-number query (ORDER BY joined columns, OFFSET)."""
    from django.contrib.auth import get_user_model

    from surveys.selectors import metric_values

    reader = get_user_model().objects.get(username="bench-owner")
    times = []
    for _ in range(repeat):
        rows = metric_values(reader=reader)[page * page_size : (page + 1) * page_size]
        started = time.perf_counter()
        list(rows)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(label: str, walks: list[list[float]], page_size: int, sample: int) -> None:
    """p50/p95 of the first and last ``sample`` pages over every walk, and their ratio."""
    first = [seconds for walk in walks for seconds in walk[:sample]]
    last = [seconds for walk in walks for seconds in walk[-sample:]]
    print(f"{label}: {len(walks[0])} pages of {page_size} ({len(walks)} walks), API in-process")
    for name, values in (("first", first), ("last", last)):
        p50, p95 = percentile(values, 0.5) * 1000, percentile(values, 0.95) * 1000
        print(f"  {name:5} {sample} pages  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms")
    print(f"  last/first p95     {percentile(last, 0.95) / percentile(first, 0.95):7.2f} ×")


def main() -> None:
    """Seed, walk the pages a few times, and print first- and last-page latencies."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=500)
    parser.add_argument("--periods", type=int, default=24)
    parser.add_argument("--metrics", type=int, default=3)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--walks", type=int, default=3, help="full walks over every page")
    parser.add_argument("--sample", type=int, default=10, help="pages counted as first/last")
    args = parser.parse_args()

    create_database(os.environ["DATABASE_URL"])
    setup_django()
    token = seed(args.stores, args.periods, args.metrics)
    last_metric = f"&metric=customer.bench{args.metrics - 1}"
    for label, query in (("all metrics", ""), ("one metric", last_metric)):
        walks = [walk_pages(token, args.page_size, query) for _ in range(args.walks)]
        report(label, walks, args.page_size, args.sample)
    pages = args.stores * args.periods * args.metrics // args.page_size
    head = offset_sql_seconds(args.page_size, 0, 5) * 1000
    tail = offset_sql_seconds(args.page_size, pages - 1, 5) * 1000
    print(f"former OFFSET SQL  first {head:.1f} ms, last {tail:.1f} ms ({tail / head:.1f} ×)")


if __name__ == "__main__":
    main()
