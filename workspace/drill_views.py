"""Drill-down pages: a unit's customer responses (filters, pages, exports), one response
and that customer's pathway."""

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.functional import cached_property

from common.exports import streaming_export
from distribution.selectors import cases_of_responses
from surveys import periods
from surveys.exports import response_rows
from surveys.models import Response
from surveys.visibility import top_readable_units

from .access import breadcrumbs, readable_unit, require_role
from .drilldown import (
    BANDS,
    ResponseFilters,
    answers_of,
    cases_by_response,
    keyset_page,
    pathway,
    response_for,
    unit_responses,
    with_score_and_comment,
)
from .exports import export_format

PAGE_SIZE = 50
COUNT_CAP = 10_000  # beyond this the pager says "over 10,000": an exact count scans them all


class CappedCount:
    """How many rows a listing has, counting at most COUNT_CAP + 1 of them."""

    def __init__(self, ids: QuerySet) -> None:
        self.ids = ids

    @cached_property
    def count(self) -> int:
        # COUNT over a LIMITed subquery, unordered: the planner may read any index.
        return self.ids.order_by()[: COUNT_CAP + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > COUNT_CAP


def _position(request: HttpRequest, key: str) -> int | None:
    """A response id from the query string (the page's edge), None when absent or not an id."""
    raw = request.GET.get(key, "")
    return int(raw) if raw.isdigit() and len(raw) <= 18 else None


def _filters(request: HttpRequest) -> ResponseFilters | None:
    """Filters from the query string; None when one is malformed (the view answers 400)."""
    period_from = request.GET.get("from") or None
    period_to = request.GET.get("to") or None
    for label in (period_from, period_to):
        if label and not periods.in_window(label):
            return None
    band = request.GET.get("band") or None
    if band and band not in BANDS:
        return None
    segment = None
    if raw := request.GET.get("segment", "").strip():
        key, sep, value = raw.partition("=")
        if not sep or not key.strip().isidentifier():
            return None
        segment = (key.strip(), value.strip())
    has_comment = request.GET.get("comment") == "1"
    return ResponseFilters(period_from, period_to, band, segment, has_comment)


@login_required
def responses_home(request: HttpRequest) -> HttpResponse:
    """The responses of the top unit the user may read."""
    require_role(request)
    tops = top_readable_units(request.user)
    if not tops:
        raise Http404("No unit yet.")
    return redirect("workspace:responses", code=tops[0].code)


@login_required
def unit_responses_page(request: HttpRequest, code: str) -> HttpResponse:
    """Customer responses of a unit and its subtree, filtered and paginated."""
    unit = readable_unit(request, code)
    filters = _filters(request)
    if filters is None:
        return HttpResponseBadRequest(
            "Filters: from/to as YYYY-MM, band promoters|passives|detractors, segment key=value."
        )
    responses = unit_responses(unit, reader=request.user, filters=filters)
    listed = responses.select_related(None)
    page = keyset_page(
        listed,
        older_than=_position(request, "older"),
        newer_than=_position(request, "newer"),
        size=PAGE_SIZE,
    )
    if page is None:
        return HttpResponseBadRequest(
            "This page's position is not among these responses; start again from the newest."
        )
    query = request.GET.copy()
    for key in ("older", "newer", "page"):
        query.pop(key, None)
    context = {
        "unit": unit,
        "page": page,
        "counted": CappedCount(listed.values_list("pk", flat=True)),
        "rows": with_score_and_comment(page.ids),
        "filters": filters,
        "bands": list(BANDS),
        "query": query.urlencode(),
        "breadcrumbs": [*breadcrumbs(unit, request), {"label": "Responses", "url": ""}],
        "nav_current": "responses",
    }
    return render(request, "workspace/responses.html", context)


@login_required
def export_unit_responses(request: HttpRequest, code: str) -> HttpResponse:
    """The filtered responses of one survey through the survey's streaming export."""
    unit = readable_unit(request, code)
    filters = _filters(request)
    chosen = export_format(request)
    if filters is None or chosen is None:
        return HttpResponseBadRequest("Bad filters or format (csv, xlsx).")
    responses = unit_responses(unit, reader=request.user, filters=filters)
    survey_slug = request.GET.get("survey")
    first = (
        responses.select_related("survey")
        .filter(**({"survey__slug": survey_slug} if survey_slug else {}))
        .first()
    )
    if first is None:
        return HttpResponseBadRequest("No responses to export with these filters.")
    survey = first.survey
    # The export pivots answers with its own GROUP BY; it gets the filtered ids only.
    chosen_ids = responses.filter(survey=survey).values("pk")
    return streaming_export(
        response_rows(survey, Response.objects.filter(pk__in=chosen_ids)),
        export_format=chosen,
        file_stem=f"{survey.slug}-{unit.code}",
    )


@login_required
def response_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One customer response with its answers, and that customer's pathway."""
    require_role(request)
    response = response_for(request.user, pk)
    if response is None:
        raise Http404("There is no response here you may read.")
    journey = pathway(request.user, response)
    cases = cases_by_response(request.user, journey)
    steps = [(step, cases.get(step.pk)) for step in journey]
    response_ids = [response.pk, *(step.pk for step in journey)]
    context = {
        "cases": cases_of_responses(request.user, response_ids),
        "response": response,
        "answers": answers_of(response),
        "pathway": steps,
        "breadcrumbs": [
            *breadcrumbs(response.unit, request),
            {"label": "Responses", "url": f"/workspace/units/{response.unit.code}/responses/"},
            {"label": f"Response {response.pk}", "url": ""},
        ],
        "nav_current": "responses",
    }
    return render(request, "workspace/response.html", context)
