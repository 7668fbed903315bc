"""Blank respondent pages and the units their links name, kept on the survey's definition.

A public link's page is the same for every visitor of one address and language until the
survey changes, except for the CSRF token. So the page is rendered once with a slot where the
token goes, kept on the process's copy of the definition (`definition.SurveyDefinition`),
and each later visitor gets it with their own token filled in: no unit query, no form, no
template. The copy lives LOCAL_SECONDS, so a unit renamed or closed, or a branding change,
reaches visitors within that time, and a survey edit at once (it drops the definition).

Only addresses made of the link's own parameters are kept (`u`, the language switch), at
most PAGE_ENTRIES per definition, so made-up query strings cannot fill the memory.
"""

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils import translation

from .definition import SurveyDefinition
from .languages import SWITCH_PARAMETER
from .models import OrgUnit
from .selectors import unit_in_survey

# Rendered where {% csrf_token %} puts the token; HTML-safe and never part of a real page.
CSRF_SLOT = "csrf-token-slot-7d1e0c"
PAGE_ENTRIES = 2_000
UNIT_ENTRIES = 5_000
_LINK_PARAMETERS = frozenset({"u", SWITCH_PARAMETER})


def page_key(request: HttpRequest) -> str | None:
    """The kept page's key for this GET, or None when its address carries anything else."""
    query = request.GET
    if any(name not in _LINK_PARAMETERS or len(query.getlist(name)) > 1 for name in query):
        return None
    return f"{translation.get_language()} {request.get_full_path()}"


def kept_page(definition: SurveyDefinition, key: str | None) -> str | None:
    return definition.pages.get(key) if key is not None else None


def keep_page(definition: SurveyDefinition, key: str | None, page: str) -> None:
    if key is not None and len(definition.pages) < PAGE_ENTRIES:
        definition.pages[key] = page


def with_token(request: HttpRequest, page: str) -> str:
    """The page with this visitor's CSRF token (get_token also sets the cookie if needed)."""
    return page.replace(CSRF_SLOT, get_token(request))


def known_unit(definition: SurveyDefinition, code: str) -> OrgUnit | None:
    """`selectors.unit_in_survey`, remembered per code on the process's definition copy."""
    if code in definition.units:
        return definition.units[code]
    unit = unit_in_survey(definition.survey, code)
    if len(definition.units) < UNIT_ENTRIES:
        definition.units[code] = unit
    return unit
