"""Blank respondent pages and the units their links name, kept per process and survey load.

A public link's page is the same for every visitor of one address and language until the
survey changes, except for the CSRF token. So the page is rendered once with a slot where the
token goes, kept in the process, and each later visitor gets it with their own token filled
in: no unit query, no form, no template. The units that links and API submissions name are
kept likewise. What is kept belongs to one load of the survey's definition
(`SurveyDefinition.loaded`): an edit of the survey, its questions or choices starts a new
load, so the next visitor of any process sees it. A unit or the branding saved or deleted
drops what this process kept at once; other processes catch up within KEPT_SECONDS.

Only addresses made of the link's own parameters are kept (`u`, the language switch), at
most PAGE_ENTRIES pages and UNIT_ENTRIES units per survey, so made-up query strings or unit
codes cannot fill the memory.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from time import monotonic

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import translation

from .definition import SurveyDefinition
from .languages import SWITCH_PARAMETER
from .models import OrgUnit
from .selectors import unit_by_code, unit_in_survey
from .visibility import SYSTEM

# Rendered where {% csrf_token %} puts the token; HTML-safe and never part of a real page.
CSRF_SLOT = "csrf-token-slot-7d1e0c"
KEPT_SECONDS = 30.0
PAGE_ENTRIES = 2_000
UNIT_ENTRIES = 5_000
_LINK_PARAMETERS = frozenset({"u", SWITCH_PARAMETER})


@dataclass(frozen=True)
class KeptPage:
    """A blank page with CSRF_SLOT for the token, and the logo origin its CSP must allow
    (what the branding context processor notes while rendering; see BrandLogoSourceMiddleware)."""

    html: str
    logo_origin: str = ""

    def response(self, request: HttpRequest) -> HttpResponse:
        """The page for this visitor: their CSRF token (get_token also sets the cookie when
        needed) and the logo origin for the CSP, as a rendered page would have."""
        if self.logo_origin:
            request.brand_logo_origin = self.logo_origin  # type: ignore[attr-defined]
        return HttpResponse(self.html.replace(CSRF_SLOT, get_token(request)))


@dataclass
class _Kept:
    loaded: str
    until: float
    pages: dict[str, "KeptPage"] = field(default_factory=dict)
    units: dict[str, OrgUnit | None] = field(default_factory=dict)  # answering this survey
    any_units: dict[str, OrgUnit | None] = field(default_factory=dict)  # any unit by code


_kept: dict[int, _Kept] = {}


def _kept_for(definition: SurveyDefinition) -> _Kept:
    """This process's entries for the definition's load, started afresh when stale."""
    survey_id = definition.survey.pk
    kept = _kept.get(survey_id)
    if kept is None or kept.loaded != definition.loaded or kept.until < monotonic():
        kept = _Kept(definition.loaded, monotonic() + KEPT_SECONDS)
        _kept[survey_id] = kept
    return kept


def forget_kept(*args: object, **kwargs: object) -> None:
    """Drop everything kept in this process (a unit changed; tests). A signal receiver."""
    _kept.clear()


def connect_invalidation() -> None:
    """Drop kept units and pages whenever a unit or the branding is saved or deleted in this
    process."""
    from django.db.models.signals import post_delete, post_save

    from common.models import Branding

    for model in (OrgUnit, Branding):
        for signal in (post_save, post_delete):
            uid = f"kept-pages-{model.__name__}-{id(signal)}"
            signal.connect(forget_kept, sender=model, dispatch_uid=uid)


def page_key(request: HttpRequest) -> str | None:
    """The kept page's key for this GET, or None when its address carries anything else."""
    query = request.GET
    if any(name not in _LINK_PARAMETERS or len(query.getlist(name)) > 1 for name in query):
        return None
    return f"{translation.get_language()} {request.get_full_path()}"


def kept_page(definition: SurveyDefinition, key: str | None) -> KeptPage | None:
    return _kept_for(definition).pages.get(key) if key is not None else None


def keep_page(definition: SurveyDefinition, key: str | None, page: KeptPage) -> None:
    pages = _kept_for(definition).pages
    if key is not None and len(pages) < PAGE_ENTRIES:
        pages[key] = page


def known_unit(definition: SurveyDefinition, code: str) -> OrgUnit | None:
    """`selectors.unit_in_survey`, remembered per code for the definition's load."""
    units = _kept_for(definition).units
    return _remembered(units, code, lambda: unit_in_survey(definition.survey, code))


def unit_with_code(definition: SurveyDefinition, code: str) -> OrgUnit | None:
    """`selectors.unit_by_code` for the system (the API's lookup; the submission service
    checks the survey's scope itself), remembered likewise."""
    units = _kept_for(definition).any_units
    return _remembered(units, code, lambda: unit_by_code(SYSTEM, code))


def _remembered(
    units: dict[str, OrgUnit | None], code: str, look_up: Callable[[], OrgUnit | None]
) -> OrgUnit | None:
    if code not in units:
        if len(units) >= UNIT_ENTRIES:
            return look_up()
        units[code] = look_up()
    return units[code]
