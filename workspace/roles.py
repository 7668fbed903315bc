"""What the shell says about the person using it: their role in words and where they land."""

from django.contrib.auth.models import User
from django.urls import reverse

from common.roles import AnyUser, is_active_user, is_analyst, is_leader
from surveys.models import OrgUnit
from surveys.visibility import managed_paths, top_readable_units


def role_label(user: AnyUser) -> str:
    """One word or two for the nav bar: the role that decides what the user reads."""
    if not is_active_user(user):
        return ""
    if is_leader(user):
        return "Leader"
    if is_analyst(user):
        return "Analyst"
    if user.is_superuser:
        return "Administrator"
    if managed_paths(user):
        return "Unit manager"
    return "No role yet"


def managed_units(user: User) -> list[OrgUnit]:
    """The units a manager manages, shallowest first (the nav bar lists them)."""
    return list(user.managed_units.order_by("depth", "path"))


def home_url(user: AnyUser) -> str | None:
    """Where a user lands after login: leaders and analysts on the company dashboard, a
    manager on their unit, a superuser on a page to choose; None for no role."""
    if not is_active_user(user):
        return None
    if user.is_superuser and not (is_leader(user) or is_analyst(user)):
        return reverse("workspace:choose")
    tops = top_readable_units(user)
    if not tops:
        return None
    return reverse("workspace:unit", args=[tops[0].code])
