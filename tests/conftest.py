"""Shared fixtures: personas, an org tree, API clients, and service availability."""

import os
import socket

import pytest
from rest_framework.test import APIClient

from cxsurvey.celery import app as celery_app
from surveys.models import OrgUnit
from tests.factories import AnalystFactory, LeaderFactory, OrgUnitFactory, UserFactory

REQUIRE_SERVICES = os.environ.get("CXSURVEY_REQUIRE_SERVICES", "") in {"1", "true", "yes"}


def service_reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def skip_or_fail(reason: str) -> None:
    """Skip on a developer machine; fail in CI, where every service must be present."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing():
    """Tests create many users; the production hasher costs half a second each. Passwords
    hashed in a test are checked in the same test, so a fast hasher changes no behaviour."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rate-limit counters live in the cache (a per-process memory cache in tests, see
    env_defaults): every test starts with none."""
    from django.core.cache import cache

    from common.cachesafe import cache_breaker
    from surveys.definition import forget_local_definitions
    from surveys.respondent_cache import forget_kept

    cache_breaker.reset()
    cache.clear()
    forget_local_definitions()
    forget_kept()


@pytest.fixture(autouse=True)
def english_outside_requests():
    """A page request activates its respondent's language on the test's thread; texts that
    a test then writes (per-language columns) must go to the default language again."""
    from django.utils import translation

    yield
    translation.activate("en")


@pytest.fixture(autouse=True)
def eager_celery_for_unit_tests(request):
    """Unit tests run tasks in-process; tests marked integration use a real worker instead."""
    if request.node.get_closest_marker("integration"):
        yield
        return
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def org_tree(db):
    """Company → 2 regions → 2 stores each."""
    company = OrgUnitFactory(code="acme", name="Acme", level=OrgUnit.Level.COMPANY)
    north = OrgUnitFactory(code="north", name="North", level=OrgUnit.Level.REGION, parent=company)
    south = OrgUnitFactory(code="south", name="South", level=OrgUnit.Level.REGION, parent=company)
    stores = [
        OrgUnitFactory(code=code, name=code.title(), level=OrgUnit.Level.STORE, parent=region)
        for region, codes in ((north, ("n1", "n2")), (south, ("s1", "s2")))
        for code in codes
    ]
    return {"company": company, "north": north, "south": south, "stores": stores}


@pytest.fixture
def owner(db):
    """A staff superuser (the platform owner)."""
    return UserFactory(username="owner", is_staff=True, is_superuser=True)


@pytest.fixture
def unit_member(db, org_tree):
    """A store manager who manages the North region's subtree."""
    user = UserFactory(username="manager", is_staff=True)
    user.managed_units.add(org_tree["north"])
    return user


@pytest.fixture
def outsider(db):
    """A logged-in user with no role anywhere."""
    return UserFactory(username="outsider")


@pytest.fixture
def leader(db):
    """An active staff member of the Leadership group."""
    return LeaderFactory(username="leader")


@pytest.fixture
def analyst(db):
    """An active staff member of the Analysts group (analysts work in the admin too)."""
    return AnalystFactory(username="analyst", is_staff=True)


@pytest.fixture
def inactive_leader(db):
    """A deactivated member of the Leadership group: no role any more."""
    return LeaderFactory(username="former-leader", is_active=False)


@pytest.fixture
def inactive_manager(db, org_tree):
    """A deactivated staff user still listed as the North region's manager: no role."""
    user = UserFactory(username="former-manager", is_staff=True, is_active=False)
    user.managed_units.add(org_tree["north"])
    return user


@pytest.fixture
def staff_outsider(db):
    """A staff member (may log in to the admin) with no role anywhere."""
    return UserFactory(username="staff-outsider", is_staff=True)


@pytest.fixture
def api_client():
    return APIClient()
