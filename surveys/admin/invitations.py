"""Read-only list of issued invitations, with a CSV re-export."""

import csv
from collections.abc import Iterable

from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

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
            return queryset.filter(used_at__isnull=self.value() == "no")
        return queryset


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
        "used",
    )
    list_filter = (
        ("survey", RelatedOnlyFieldListFilter),
        ("unit", RelatedOnlyFieldListFilter),
        UsedFilter,
    )
    list_select_related = ("survey", "unit")
    search_fields = ("contact", "customer_id", "=token")
    exclude = ("token",)
    actions = ("download_csv",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="Token")
    def short_token(self, invitation: Invitation) -> str:
        return invitation.token[:8] + "…"

    # Only whether it was used, never when: for anonymous surveys the moment could be matched
    # against the day a response arrived.
    @admin.display(description="Used", boolean=True, ordering="used_at")
    def used(self, invitation: Invitation) -> bool:
        return invitation.is_used

    @admin.action(description="Download selected invitations as CSV", permissions=["view"])
    def download_csv(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> HttpResponse:
        rows = invitation_rows(invitations_for_export(queryset))
        return csv_download(rows, "invitations.csv")


def csv_download(rows: Iterable[Iterable[str]], filename: str) -> HttpResponse:
    """Rows as a CSV attachment, never cached: invitation tokens grant access to a survey."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    csv.writer(response).writerows(rows)
    return response
