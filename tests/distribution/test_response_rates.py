import random

import pytest

from distribution.selectors import _suppressed, response_rates
from surveys.models import Invitation, Survey
from tests.factories import OrgUnitFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def _invite(survey, unit, invited, answered):
    Invitation.objects.bulk_create(
        Invitation(survey=survey, unit=unit, used=number < answered) for number in range(invited)
    )


@pytest.fixture
def north(org_tree):
    north = org_tree["north"]
    n1, n2 = org_tree["stores"][:2]
    n3 = OrgUnitFactory(code="n3", name="N3", parent=north)
    return north, (n1, n2, n3)


def _cells(table, survey):
    return {label: table.cells.get((key, survey.pk)) for key, label in table.groups}


def test_customer_survey_rates_per_unit_with_trend(north):
    region, (n1, n2, n3) = north
    first, second = SurveyFactory(title="Q1"), SurveyFactory(title="Q2")
    _invite(first, n1, 10, 4)
    _invite(second, n1, 10, 6)
    _invite(second, n2, 5, 5)
    table = response_rates(surveys=[first, second], unit=region)
    cells = _cells(table, second)
    assert (cells["N1"].invited, cells["N1"].answered, cells["N1"].rate) == (10, 6, 60.0)
    assert cells["North — total"].answered == 11 and cells["North — total"].invited == 15
    rows = {label: row for label, _, row in table.rows()}
    assert rows["N1"][1][1] == pytest.approx(20.0)  # +20 points against Q1
    assert rows["N3"] == [(None, None), (None, None)]


def test_employee_rates_hidden_while_the_wave_runs(north):
    region, (n1, _, _) = north
    pulse = SurveyFactory(employee=True)
    _invite(pulse, n1, 10, 8)
    cells = _cells(response_rates(surveys=[pulse], unit=region), pulse)
    assert cells["N1"].invited == 10 and cells["N1"].answered is None
    assert cells["North — total"].answered is None


def test_employee_small_group_cannot_be_derived_from_the_total(north):
    region, (n1, n2, n3) = north
    pulse = SurveyFactory(employee=True, status=Survey.Status.CLOSED)  # threshold 5
    _invite(pulse, n1, 8, 6)
    _invite(pulse, n2, 9, 7)
    _invite(pulse, n3, 3, 2)  # below the threshold
    cells = _cells(response_rates(surveys=[pulse], unit=region), pulse)

    assert cells["N3"].answered is None and cells["N3"].rate is None
    total = cells["North — total"].answered
    assert total == 15
    # The attack: total minus every shown group. It must not isolate N3's 2 answers.
    groups = [cell for label, cell in cells.items() if label != "North — total"]
    shown = sum(cell.answered for cell in groups if cell and cell.answered is not None)
    assert total - shown >= 5
    assert cells["N1"].answered is None and cells["N2"].answered == 7


def test_employee_total_below_threshold_is_hidden(north):
    region, (n1, _, _) = north
    pulse = SurveyFactory(employee=True, status=Survey.Status.CLOSED)
    _invite(pulse, n1, 6, 4)
    cells = _cells(response_rates(surveys=[pulse], unit=region), pulse)
    assert cells["North — total"].answered is None and cells["North — total"].invited == 6


def test_suppression_never_leaves_a_hidden_remainder_below_the_threshold():
    rng = random.Random(14)
    for _ in range(2000):
        threshold = rng.randint(3, 7)
        counts = {f"g{i}": rng.randint(0, 12) for i in range(rng.randint(1, 6))}
        shown = _suppressed(counts, threshold)
        hidden = sum(n for key, n in counts.items() if key not in shown)
        assert all(n >= threshold for n in shown.values())
        assert hidden == 0 or hidden >= threshold or not shown


def test_rates_page_shows_a_table_for_a_manager(client, unit_member, north):
    region, (n1, _, _) = north
    survey = SurveyFactory(title="Branch Q1")
    _invite(survey, n1, 4, 3)
    client.force_login(unit_member)
    page = client.get("/distribution/rates/", {"survey": survey.pk, "unit": "north"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "3 of 4" in text and "75 %" in text
    outside = client.get("/distribution/rates/", {"survey": survey.pk, "unit": "south"})
    assert outside.status_code == 200 and "3 of 4" not in outside.content.decode()
