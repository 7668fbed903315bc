"""Which units a user may read: the one policy behind the admin, the API, the dashboards,
exports and tasks.

- Active leaders, analysts and superusers read every unit.
- An active unit manager reads the subtrees of the units they manage.
- Anyone else (no role, an inactive account, an anonymous visitor) reads no unit.
- `SYSTEM`, the caller of tasks and commands, reads every unit.

Subtrees are path prefixes (`OrgUnit.path`). What a reader then shows of a unit's results
(anonymity threshold, suppression) is decided by the selectors, not here.
"""

from collections.abc import Iterable
from typing import Final

from django.db.models import Q, QuerySet

from common.roles import AnyUser, is_active_user, sees_whole_organisation

from .models import OrgUnit


class SystemCaller:
    """The platform itself (Celery tasks, management commands): reads every unit."""

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM: Final = SystemCaller()
Reader = AnyUser | SystemCaller


def reads_every_unit(reader: Reader) -> bool:
    """True for SYSTEM and for active leaders, analysts and superusers."""
    return isinstance(reader, SystemCaller) or sees_whole_organisation(reader)


def managed_paths(reader: Reader) -> list[str]:
    """Paths of the units an active user manages, read once per user object."""
    if isinstance(reader, SystemCaller) or not is_active_user(reader):
        return []
    cached: list[str] | None = getattr(reader, "_managed_unit_paths", None)
    if cached is None:
        cached = list(reader.managed_units.values_list("path", flat=True))
        setattr(reader, "_managed_unit_paths", cached)  # noqa: B010 (a cache, not a field)
    return cached


def has_role(reader: Reader) -> bool:
    """Whether the reader may read any unit at all (the API's and dashboards' entry check)."""
    return reads_every_unit(reader) or bool(managed_paths(reader))


def unit_condition(reader: Reader, field: str = "unit") -> Q | None:
    """Condition limiting `field` (an OrgUnit relation, or "" for OrgUnit itself) to the
    units the reader may read; None when they read every unit."""
    if reads_every_unit(reader):
        return None
    prefix = f"{field}__" if field else ""
    condition = Q(pk__in=[])
    for path in managed_paths(reader):
        condition |= Q(**{f"{prefix}path__startswith": path})
    return condition


def scoped(queryset: QuerySet, reader: Reader, field: str = "unit") -> QuerySet:
    """`queryset` limited to rows about units the reader may read."""
    condition = unit_condition(reader, field)
    return queryset if condition is None else queryset.filter(condition)


def readable_units(reader: Reader) -> QuerySet[OrgUnit]:
    """Every unit the reader may read, in tree order."""
    return scoped(OrgUnit.objects.order_by("path"), reader, field="")


def can_read_unit(reader: Reader, unit: OrgUnit) -> bool:
    """Whether `unit` lies in the part of the organisation the reader may read."""
    if reads_every_unit(reader):
        return True
    return any(unit.path.startswith(path) for path in managed_paths(reader))


def top_readable_units(reader: Reader) -> list[OrgUnit]:
    """The highest units the reader may read (roots of their subtrees), shallowest first."""
    if reads_every_unit(reader):
        return list(OrgUnit.objects.filter(parent__isnull=True).order_by("path"))
    paths = managed_paths(reader)
    tops = [path for path in paths if not any(path.startswith(o) and path != o for o in paths)]
    return list(OrgUnit.objects.filter(path__in=tops).order_by("depth", "path"))


def readable_unit_ids(reader: Reader, codes: Iterable[str]) -> dict[str, int]:
    """Of the unit `codes`, those the reader may read, as code → id (one query)."""
    units = scoped(OrgUnit.objects.filter(code__in=set(codes)), reader, field="")
    return dict(units.values_list("code", "id"))
