"""The demo's comments: tied to the score drivers, themed by the seeder, and re-seeding
leaves the theme run alone."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count

from comments.models import ThemeRun
from comments.selectors import readable_comments
from comments.theme_selectors import unit_themes
from surveys.models import OrgUnit, Response, Survey
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
    run = ThemeRun.objects.get(survey__slug="northwind-customers")
    assert run.status == ThemeRun.Status.DONE and run.comment_count > 200
    survey = Survey.objects.get(slug="northwind-customers")
    company = OrgUnit.objects.get(level=OrgUnit.Level.COMPANY)
    data = unit_themes(SYSTEM, survey, company)
    assert data.separating
    assert any("deliver" in row.label for row in data.separating)
    runs = ThemeRun.objects.count()
    seed()
    assert ThemeRun.objects.count() == runs


def test_demo_employee_comments_show_only_for_released_store_months_of_ten_or_more():
    seed()
    pulse = Survey.objects.get(slug="northwind-pulse")
    groups = (
        Response.objects.filter(survey=pulse)
        .order_by()
        .values_list("unit__code", "period")
        .annotate(people=Count("id"))
    )
    sizes = {f"{code}/{period}": people for code, period, people in groups}
    comments = readable_comments(SYSTEM, pulse)
    readable = comments.values_list("response__unit__code", "response__period")
    shown = {f"{code}/{period}" for code, period in readable}
    assert shown, "some store-months have ten or more respondents"
    assert all(sizes[cell] >= 10 for cell in shown)
    assert any(people < 10 for people in sizes.values())
    this_month = max(period for cell in sizes for period in [cell.split("/")[1]])
    assert not any(cell.endswith(this_month) for cell in shown)  # not released yet
