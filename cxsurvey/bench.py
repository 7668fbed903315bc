"""Benchmark instruments, on only with BENCH_ENDPOINTS=1 (never in production).

`bench/load_submit.py` compares submissions against the cheapest possible write through
the same stack (a bare insert view: middleware, one INSERT into an unlogged table the load
script creates) and reads how many SQL statements each request ran from the
X-Sql-Statements header this middleware adds.
"""

from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

BARE_TABLE = "bench_bare_insert"


class SqlCountMiddleware:
    """Adds X-Sql-Statements: statements this request sent (after-commit work included)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        response["X-Sql-Statements"] = str(count)
        return response


@csrf_exempt
@require_POST
def bare_insert(request: HttpRequest) -> HttpResponse:
    """One INSERT and a 201: the floor a submission is measured against."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {BARE_TABLE} DEFAULT VALUES")
    return HttpResponse(status=201)
