"""Which unit a workspace page is about, if the user may read it (`surveys.visibility`)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.urls import reverse

from surveys.models import OrgUnit
from surveys.selectors import unit_by_code
from surveys.visibility import SYSTEM, can_read_unit, has_role, reads_every_unit

OUTSIDE = "This unit is not in the part of the organisation your role covers."


def require_role(request: HttpRequest) -> None:
    """Refuse users who may read no unit (the styled 403 says whom to ask)."""
    if not has_role(request.user):
        raise PermissionDenied("Your account has no role yet: ask an administrator for one.")


def readable_unit(request: HttpRequest, code: str) -> OrgUnit:
    """The unit with `code` if the user may read it. A manager gets the same refusal for a
    unit outside their subtree and for an unknown code, so codes cannot be probed."""
    require_role(request)
    unit = unit_by_code(SYSTEM, code)
    if unit is not None and can_read_unit(request.user, unit):
        return unit
    if reads_every_unit(request.user):
        raise Http404("There is no unit with this code.")
    raise PermissionDenied(OUTSIDE)


def breadcrumbs(unit: OrgUnit, request: HttpRequest) -> list[dict[str, str]]:
    """Links from the top of what the user may read down to `unit`."""
    chain = [*unit.ancestors(), unit]
    return [
        {"label": step.name, "url": reverse("workspace:unit", args=[step.code])}
        for step in chain
        if can_read_unit(request.user, step)
    ]
