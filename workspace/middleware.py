"""Refusals on workspace and leader pages answered with the styled page, not a traceback.

Django logs a PermissionDenied from a view with its traceback; a refusal is an expected
answer, so it is rendered here and logged (by Django) as one warning line.
"""

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

API_PREFIX = "/api/"


class RefusalPageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, PermissionDenied) or request.path.startswith(API_PREFIX):
            return None
        context = {"reason": str(exception) or "", "nav_current": ""}
        return render(request, "403.html", context, status=403)
