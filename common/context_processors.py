"""Template context every page may use."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .selectors import current_branding


def branding(request: HttpRequest) -> dict[str, object]:
    """`branding`: the company's name, logo and colour; read only when a template uses it."""
    return {"branding": SimpleLazyObject(current_branding)}
