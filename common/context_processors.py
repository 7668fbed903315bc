"""Template context every page may use."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .models import Branding
from .selectors import current_branding


def branding(request: HttpRequest) -> dict[str, object]:
    """`branding`: the company's name, logo and colour, read only when a template uses it
    (respondent pages); it then notes the logo's origin for the CSP (`middleware`)."""

    def read() -> Branding:
        current = current_branding()
        request.brand_logo_origin = current.external_logo_origin  # type: ignore[attr-defined]
        return current

    return {"branding": SimpleLazyObject(read)}
