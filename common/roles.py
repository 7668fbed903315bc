"""Roles a user has in the organisation, from Django groups.

The leadership team is exactly the members of the "Leadership" group; analysts are the
"Analysts" group. Superusers administer the platform but are not leaders: they neither
propose nor vote unless they join the group. Inactive users have no role at all.
"""

from typing import TypeGuard

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied

LEADERSHIP_GROUP = "Leadership"
ANALYSTS_GROUP = "Analysts"

AnyUser = User | AnonymousUser


def is_active_user(user: AnyUser | None) -> TypeGuard[User]:
    """Logged in and not deactivated."""
    return bool(user is not None and user.is_authenticated and user.is_active)


def _group_names(user: User) -> set[str]:
    # Read once per user object (one request) and kept on it.
    cached: set[str] | None = getattr(user, "_role_group_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        setattr(user, "_role_group_names", cached)  # noqa: B010 (a cache, not a field)
    return cached


def is_leader(user: AnyUser | None) -> bool:
    """A member of the Leadership group (active users only)."""
    return is_active_user(user) and LEADERSHIP_GROUP in _group_names(user)


def is_analyst(user: AnyUser | None) -> bool:
    """A member of the Analysts group (active users only)."""
    return is_active_user(user) and ANALYSTS_GROUP in _group_names(user)


def sees_whole_organisation(user: AnyUser | None) -> bool:
    """Leaders, analysts and superusers read results for every unit (active users only)."""
    if not is_active_user(user):
        return False
    return user.is_superuser or is_leader(user) or is_analyst(user)


def acting_user(user: AnyUser) -> User:
    """The logged-in user behind a request that only logged-in users reach (admin pages, API
    views with a role); anything else is refused rather than recorded as nobody."""
    if not is_active_user(user):
        raise PermissionDenied("Log in to do this.")
    return user
