"""The company's branding as static-like resources, so pages need no inline style: the
colour as CSS custom properties (/brand.css) and the uploaded logo (/brand/logo)."""

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.http import http_date
from django.views.decorators.http import require_GET

from .colour import shades
from .selectors import branding_logo, current_branding

# Short, so an edit in the admin shows within a minute even where a browser cached it.
MAX_AGE_SECONDS = 60


def _cached(response: HttpResponse, updated_at) -> HttpResponse:
    response["Cache-Control"] = f"public, max-age={MAX_AGE_SECONDS}"
    if updated_at is not None:
        response["Last-Modified"] = http_date(updated_at.timestamp())
    return response


@require_GET
def brand_stylesheet(request: HttpRequest) -> HttpResponse:
    branding = current_branding()
    try:
        variables = shades(branding.colour)
    except ValueError:  # a colour written around the admin's validation
        variables = shades(branding.DEFAULT_COLOUR)
    body = ":root {\n" + "".join(f"  --{name}: {value};\n" for name, value in variables.items())
    body += "}\n"
    response = HttpResponse(body, content_type="text/css; charset=utf-8")
    return _cached(response, branding.updated_at)


@require_GET
def brand_logo(request: HttpRequest) -> HttpResponse:
    logo = branding_logo()
    if logo is None:
        raise Http404("No logo uploaded.")
    data, content_type = logo
    response = HttpResponse(data, content_type=content_type)
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return _cached(response, current_branding().updated_at)
