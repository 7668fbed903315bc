"""The shell's navigation bar and small formatting helpers of the workspace pages."""

from typing import Any

from django import template

from ..nav import nav_links
from ..roles import managed_units, role_label

register = template.Library()


@register.inclusion_tag("workspace/_nav.html", takes_context=True)
def shell_nav(context: dict[str, Any]) -> dict[str, Any]:
    """User, role, units, logout and the links the user may follow."""
    request = context["request"]
    user = request.user
    authenticated = user.is_authenticated
    units = managed_units(user) if authenticated and role_label(user) == "Unit manager" else []
    return {
        "request": request,
        "user": user,
        "authenticated": authenticated,
        "role": role_label(user) if authenticated else "",
        "units": units,
        "links": nav_links(request, context.get("nav_current", "")) if authenticated else [],
    }
