"""Request hygiene before any view runs.

`RejectNulMiddleware`: a NUL character in the path or the query string is never typed on
purpose, and PostgreSQL refuses it in any text it is compared with (a server error in every
view that looks a code up). Such a request answers 400 at once: in the API's error shape
under /api/, as a plain page elsewhere.
"""

from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

from .api.errors import error_body

MESSAGE = "The address contains a NUL character."


def has_nul(request: HttpRequest) -> bool:
    raw_query = request.META.get("QUERY_STRING", "")
    return "\x00" in request.path or b"\x00" in unquote_to_bytes(raw_query.replace("+", " "))


class RejectNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if has_nul(request):
            if request.path.startswith("/api/"):
                body = error_body(status_code=400, code="invalid", message=MESSAGE)
                return JsonResponse(body, status=400)
            return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
