"""Who may use which part of the API, by role; unit scope itself is `surveys.visibility`."""

from rest_framework import permissions

from common.roles import sees_whole_organisation

from ..visibility import has_role

NO_ROLE = (
    "Your account has no role in the API: ask an administrator to make you a leader, an "
    "analyst or the manager of a unit."
)


class HasRole(permissions.BasePermission):
    """Authenticated with a role (leader, analyst, superuser or unit manager): the default
    permission of every API view (settings)."""

    message = NO_ROLE

    def has_permission(self, request, view) -> bool:
        return has_role(request.user)


class IsLeaderOrAnalyst(permissions.BasePermission):
    """Organisation-wide analysis: leaders, analysts and superusers."""

    message = "Only leaders and analysts may use this part of the API."

    def has_permission(self, request, view) -> bool:
        return sees_whole_organisation(request.user)


class IsStaffWithRole(permissions.BasePermission):
    """Staff members with a role; used for writes such as issuing invitations."""

    message = "Only staff members with a role may do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user.is_authenticated and request.user.is_staff) and has_role(
            request.user
        )
