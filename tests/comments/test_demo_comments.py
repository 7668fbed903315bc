"""The demo's comments: tied to the score drivers, themed by the seeder, and re-seeding
leaves the theme run alone."""

from io import StringIO

import pytest
from django.core.management import call_command

from comments.models import ThemeRun
from comments.theme_selectors import unit_themes
from surveys.models import OrgUnit, Survey
from surveys.visibility import SYSTEM

pytestmark = pytest.mark.django_db

SMALL = ["--stores", "6", "--months", "4", "--customers-per-store", "40"]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed() -> None:
    call_command("seed_demo", *SMALL, stdout=StringIO(), stderr=StringIO(), verbosity=0)


def test_seeded_demo_shows_delivery_as_what_separates_detractors():
    seed()
    run = ThemeRun.objects.get()
    assert run.status == ThemeRun.Status.DONE and run.comment_count > 200
    survey = Survey.objects.get(slug="northwind-customers")
    company = OrgUnit.objects.get(level=OrgUnit.Level.COMPANY)
    data = unit_themes(SYSTEM, survey, company)
    assert data.separating
    assert any("deliver" in row.label for row in data.separating)
    seed()
    assert ThemeRun.objects.count() == 1
