"""Read paths for surveys: querysets and export rows shared by the admin, pages and the API."""

import re
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from .models import Invitation, Question, Response, Survey

INVITATION_CSV_HEADER = ("token", "url", "unit_code", "contact", "customer_id", "expires_at")
# Spreadsheets run a cell starting with these as a formula; a phone number's "+" is harmless.
_FORMULA_START = ("=", "@", "\t", "\r", "+", "-")
_PHONE_LIKE = re.compile(r"^[+-][0-9 ()./-]*$")


def _count_of(queryset: QuerySet, relation: str) -> Coalesce:
    """A correlated COUNT subquery per outer survey row.

    One subquery per relation, because joining responses and questions in one query would
    multiply the rows and need DISTINCT over a large product.
    """
    counted = (
        queryset.filter(**{relation: OuterRef("pk")})
        .order_by()
        .values(relation)
        .annotate(total=Count("pk"))
        .values("total")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def surveys_with_counts(queryset: QuerySet[Survey]) -> QuerySet[Survey]:
    """Surveys annotated with `response_count` and `question_count`, without N+1 queries.

    Counts are whole-survey totals, so they reveal nothing about any one group.
    """
    return queryset.select_related("root_unit").annotate(
        response_count=_count_of(Response.objects.all(), "survey"),
        question_count=_count_of(Question.objects.all(), "survey"),
    )


def individually_listable_responses(queryset: QuerySet[Response]) -> QuerySet[Response]:
    """Responses that may be browsed one by one.

    Leaves out every response to an anonymous survey or an employee survey: a single
    employee response is a group of one, below any anonymity threshold, so those results
    are only shown aggregated (with suppression) on the dashboards.
    """
    hidden = Q(survey__anonymous=True) | Q(survey__audience=Survey.Audience.EMPLOYEE)
    return queryset.exclude(hidden).select_related("survey", "unit")


def invitations_for_export(queryset: QuerySet[Invitation]) -> QuerySet[Invitation]:
    """Invitations with what `invitation_csv_rows` reads, in one query."""
    return queryset.select_related("unit").only(
        "token", "contact", "customer_id", "expires_at", "unit__code"
    )


def invitation_csv_rows(
    invitations: Iterable[Invitation], *, base_url: str | None = None
) -> Iterator[tuple[str, ...]]:
    """The header, then one row per invitation: token, personal URL, unit code, contact,
    customer id and expiry (ISO 8601, empty when it never expires).

    Invitations must come with their unit loaded (`invitations_for_export`, or as returned
    by `issue_invitations`). URLs start with `base_url`, by default PUBLIC_BASE_URL.
    """
    base = (base_url or settings.PUBLIC_BASE_URL).rstrip("/")
    yield INVITATION_CSV_HEADER
    for invitation in invitations:
        expires_at = invitation.expires_at.isoformat() if invitation.expires_at else ""
        yield (
            invitation.token,
            base + invitation.get_absolute_url(),
            invitation.unit.code,
            _spreadsheet_safe(invitation.contact),
            _spreadsheet_safe(invitation.customer_id),
            expires_at,
        )


def _spreadsheet_safe(text: str) -> str:
    """Quote a cell that a spreadsheet would otherwise evaluate as a formula."""
    if text.startswith(_FORMULA_START) and not _PHONE_LIKE.match(text):
        return "'" + text
    return text
