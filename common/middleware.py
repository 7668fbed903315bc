"""Request hygiene before any view runs, and the branding logo's place in the CSP.

`RejectNulMiddleware`: a NUL character in the path or the query string is never typed on
purpose, and PostgreSQL refuses it in any text it is compared with (a server error in every
view that looks a code up). Such a page request answers 400 at once. The API is left to
its serializers, which name the offending query parameter in the API's error shape.

`BrandLogoSourceMiddleware`: see its docstring.
"""

from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

MESSAGE = "The address contains a NUL character."


def has_nul(request: HttpRequest) -> bool:
    raw_query = request.META.get("QUERY_STRING", "")
    return "\x00" in request.path or b"\x00" in unquote_to_bytes(raw_query.replace("+", " "))


class RejectNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/") and has_nul(request):
            return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class BrandLogoSourceMiddleware:
    """A logo given by https address (Branding.logo_url) is the one image source from
    another origin: a page that showed the branding (the context processor noted the
    origin) allows exactly that origin in the CSP's img-src. Other pages read nothing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        origin = getattr(request, "brand_logo_origin", "")
        if origin:
            response._csp_update = {"img-src": [origin]}  # type: ignore[attr-defined]
        return response
