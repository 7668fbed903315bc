"""Admin bases that grant reading by role, and the read-only audit log."""

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditEvent
from .roles import AnyUser, is_analyst, is_leader


def reads_by_role(user: AnyUser) -> bool:
    """Staff leaders and analysts read the leadership pages by role (group membership)."""
    return bool(user.is_active and getattr(user, "is_staff", False)) and (
        is_leader(user) or is_analyst(user)
    )


class RoleAdmin(admin.ModelAdmin):
    """Roles grant reading, whatever model permissions the database holds; other staff need
    the view permission."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return reads_by_role(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return reads_by_role(request.user) or super().has_view_permission(request, obj)


class ReadOnlyAdmin(RoleAdmin):
    """History written by services only: viewable, never edited from the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "action", "subject"]
    list_filter = ["action"]
    list_select_related = ["actor"]
    search_fields = ["action", "subject", "actor__username"]
    date_hierarchy = "created_at"
