"""The shell's navigation: one list of entries, each with who may see it.

Pages of other areas add an entry here (label, URL name, who sees it); the shell renders
whichever entries apply to the user, so the bar stays the same on every page.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from common.roles import AnyUser, is_active_user, is_analyst, is_leader
from surveys.visibility import has_role


@dataclass(frozen=True)
class NavEntry:
    key: str
    label: str
    url: Callable[[AnyUser], str | None]
    allowed: Callable[[AnyUser], bool]


@dataclass(frozen=True)
class NavLink:
    key: str
    label: str
    url: str
    current: bool


def _named(name: str) -> Callable[[AnyUser], str | None]:
    def url(user: AnyUser) -> str | None:
        try:
            return reverse(name)
        except NoReverseMatch:
            return None

    return url


def _leads_or_analyses(user: AnyUser) -> bool:
    return is_leader(user) or is_analyst(user) or (is_active_user(user) and user.is_superuser)


def _staff(user: AnyUser) -> bool:
    return is_active_user(user) and user.is_staff


NAV_ENTRIES: list[NavEntry] = [
    NavEntry("dashboard", "Dashboard", _named("workspace:home"), has_role),
    NavEntry("responses", "Responses", _named("workspace:responses_home"), has_role),
    NavEntry("cases", "Cases", _named("distribution:cases"), has_role),
    NavEntry("rates", "Response rates", _named("distribution:rates"), has_role),
    NavEntry("linkage", "Linkage", _named("workspace:linkage_latest"), _leads_or_analyses),
    NavEntry("leadership", "Leadership", _named("linkage:dashboard"), is_leader),
    NavEntry("admin", "Admin", _named("admin:index"), _staff),
]


def nav_links(request: HttpRequest, current: str = "") -> list[NavLink]:
    """The entries this user may follow, with the current section marked."""
    user = request.user
    links = []
    for entry in NAV_ENTRIES:
        if not entry.allowed(user):
            continue
        url = entry.url(user)
        if url:
            links.append(NavLink(entry.key, entry.label, url, entry.key == current))
    return links
