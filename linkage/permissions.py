"""Who may do what in the leadership area: leaders, analysts and unit managers.

The leadership team is exactly the members of the "Leadership" group. Superusers administer
the platform but are not leaders: they neither propose nor vote unless they join the group, so
"every current leader" in the agreement rules always means the same set of people.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from surveys.models import OrgUnit

LEADERSHIP_GROUP = "Leadership"
ANALYSTS_GROUP = "Analysts"

AnyUser = AbstractBaseUser | AnonymousUser


class NotALeader(PermissionDenied):
    """Only members of the Leadership group may propose or vote on the barometer."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.__doc__)
        self.message = str(self.args[0])


def _in_group(user: AnyUser, name: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    # The group names of a user are read once per request object and kept on it.
    cached = getattr(user, "_leadership_group_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._leadership_group_names = cached
    return name in cached


def is_leader(user: AnyUser) -> bool:
    """A member of the Leadership group (active users only)."""
    return _in_group(user, LEADERSHIP_GROUP)


def is_analyst(user: AnyUser) -> bool:
    """A member of the Analysts group (active users only)."""
    return _in_group(user, ANALYSTS_GROUP)


def sees_every_unit(user: AnyUser) -> bool:
    """Leaders, analysts and superusers read results for the whole organisation."""
    if not user.is_authenticated or not user.is_active:
        return False
    return bool(user.is_superuser) or is_leader(user) or is_analyst(user)


def require_leader(user: AnyUser) -> None:
    """Raise NotALeader unless `user` belongs to the leadership team."""
    if not is_leader(user):
        raise NotALeader()


def visible_units(user: AnyUser) -> QuerySet[OrgUnit]:
    """Units whose results `user` may read: all, or the subtrees of the units they manage."""
    if sees_every_unit(user):
        return OrgUnit.objects.all()
    if not user.is_authenticated or not user.is_active:
        return OrgUnit.objects.none()
    prefixes = list(user.managed_units.values_list("path", flat=True))
    if not prefixes:
        return OrgUnit.objects.none()
    condition = Q()
    for prefix in prefixes:
        condition |= Q(path__startswith=prefix)
    return OrgUnit.objects.filter(condition)


def can_view_unit(user: AnyUser, unit: OrgUnit) -> bool:
    """True when `unit` lies in the part of the organisation `user` may read."""
    if sees_every_unit(user):
        return True
    return visible_units(user).filter(pk=unit.pk).exists()


def top_visible_units(user: AnyUser) -> list[OrgUnit]:
    """The highest units `user` may read (roots of their visible subtrees), shallowest first."""
    units = list(visible_units(user).order_by("depth", "path"))
    tops: list[OrgUnit] = []
    for unit in units:
        if not any(unit.path.startswith(top.path) for top in tops):
            tops.append(unit)
    return tops
