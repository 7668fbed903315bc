"""Read-only list of issued invitations, with a CSV re-export.

Invitations of employee and anonymous surveys are listed to administrators only (a token in
other hands could pad a small team), and never with whether or when they were used: counted
per unit, used invitations would be a live response count of a small team.
"""

import csv
from collections.abc import Iterable

from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse

from common.net import public_base_url

from ..exports import invitation_rows
from ..models import Invitation
from ..selectors import invitations_for_export


class UsedFilter(admin.SimpleListFilter):
    title = "used"
    parameter_name = "used"

    def lookups(self, request, model_admin):
        return (("yes", "Used"), ("no", "Not used"))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.exclude(CONFIDENTIAL).filter(used=self.value() == "yes")
        return queryset


CONFIDENTIAL = Q(survey__audience="employee") | Q(survey__anonymous=True)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = (
        "short_token",
        "survey",
        "unit",
        "contact",
        "customer_id",
        "created_at",
        "expires_at",
        "use",
    )
    list_filter = (
        ("survey", RelatedOnlyFieldListFilter),
        ("unit", RelatedOnlyFieldListFilter),
        UsedFilter,
    )
    list_select_related = ("survey", "unit")
    search_fields = ("contact", "customer_id", "=token")
    exclude = ("token", "used", "used_at")
    actions = ("download_csv",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Invitation]:
        invitations = super().get_queryset(request)
        if not request.user.is_superuser:
            invitations = invitations.exclude(CONFIDENTIAL)
        return invitations

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="Token")
    def short_token(self, invitation: Invitation) -> str:
        return invitation.token[:8] + "…"

    # Only whether it was used, never when; for employee and anonymous surveys not even that
    # (None shows as unknown).
    @admin.display(description="Used", boolean=True)
    def use(self, invitation: Invitation) -> bool | None:
        return None if invitation.survey.is_confidential else invitation.is_used

    @admin.action(description="Download selected invitations as CSV", permissions=["view"])
    def download_csv(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> HttpResponse:
        rows = invitation_rows(invitations_for_export(queryset), base_url=public_base_url(request))
        return csv_download(rows, "invitations.csv")


def csv_download(rows: Iterable[Iterable[str]], filename: str) -> HttpResponse:
    """Rows as a CSV attachment, never cached: invitation tokens grant access to a survey."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    csv.writer(response).writerows(rows)
    return response
