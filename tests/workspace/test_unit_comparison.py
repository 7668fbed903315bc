"""A parent unit's page: children side by side with interval, n and a test against the parent;
hidden employee groups read "not enough responses" and cannot be recovered by subtraction."""

import re

import pytest

from surveys.models import Question
from surveys.services.scores import recompute_all
from tests.factories import QuestionFactory, SurveyFactory, add_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_nps(org_tree):
    question = QuestionFactory(survey=SurveyFactory(), metric_key="customer.nps")
    n1, n2, s1, s2 = org_tree["stores"]
    add_answers(question, n1, [10] * 40 + [9] * 20, period="2026-03")  # all promoters
    add_answers(question, n2, [3] * 30 + [8] * 30, period="2026-03")
    add_answers(question, s1, [9] * 30 + [5] * 30, period="2026-03")
    add_answers(question, s2, [9] * 30 + [6] * 30, period="2026-03")
    recompute_all()
    return question


def _row(page: str, name: str) -> str:
    start = page.index(f'data-role="child-link">{name}</a>')
    return page[start : page.index("</tr>", start)]


def test_region_page_lists_stores_with_value_interval_n_and_test(client, leader, customer_nps):
    client.force_login(leader)
    page = client.get("/workspace/units/north/").content.decode()
    high, low = _row(page, "N1"), _row(page, "N2")
    assert "+100" in high and "95 % CI" in high and "n = 60" in high
    assert "above parent" in high and "vs-above good" in high
    assert "below parent" in low and "vs-below bad" in low


def test_company_page_compares_regions_and_offers_exports(client, leader, customer_nps):
    client.force_login(leader)
    page = client.get("/workspace/units/acme/").content.decode()
    assert 'data-role="child-link">North</a>' in page and 'data-role="child-link">South</a>' in page
    assert "data-sortable" in page and 'data-role="heatmap"' in page
    assert "/workspace/units/acme/units.export?format=csv" in page
    csv = b"".join(client.get("/workspace/units/acme/units.export?format=csv").streaming_content)
    lines = csv.decode().splitlines()
    assert lines[0].startswith("unit_code,unit_name,metric_key,period,status,value")
    assert any(line.startswith("north,North,customer.nps,2026-03,shown,") for line in lines)


def test_unit_page_query_count_is_capped(
    client, leader, customer_nps, django_assert_max_num_queries
):
    client.force_login(leader)
    with django_assert_max_num_queries(25):
        assert client.get("/workspace/units/acme/").status_code == 200
    with django_assert_max_num_queries(25):
        assert client.get("/workspace/units/acme/data.json").status_code == 200


def test_manager_export_of_other_region_refused(client, unit_member, customer_nps):
    client.force_login(unit_member)
    assert client.get("/workspace/units/south/units.export?format=csv").status_code == 403
    assert client.get("/workspace/units/north/units.export?format=pdf").status_code == 400


@pytest.fixture
def employee_enps(org_tree):
    survey = SurveyFactory(employee=True)
    question = QuestionFactory(survey=survey, metric_key="employee.enps", type=Question.Type.NPS)
    n1, n2, s1, s2 = org_tree["stores"]
    add_answers(question, n1, [10, 10, 3], period="2026-03")  # below the threshold of 5
    add_answers(question, n2, [9, 8, 7, 6, 10, 10, 2], period="2026-03")
    add_answers(question, s1, [9, 9, 9, 9, 9, 1], period="2026-03")
    add_answers(question, s2, [7, 7, 7, 7, 7, 7], period="2026-03")
    recompute_all()
    return question


def _numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"n = (\d+)", text)]


def test_hidden_store_reads_not_enough_responses_and_cannot_be_subtracted(
    client, leader, employee_enps
):
    client.force_login(leader)
    region = client.get("/workspace/units/north/").content.decode()
    company = client.get("/workspace/units/acme/").content.decode()
    n1 = _row(region, "N1")
    assert "not enough responses" in n1 and "n = " not in n1
    # Subtraction: whatever the region page shows for North and its shown stores must not
    # leave a group smaller than the threshold (or the hidden one's 3 people).
    north_in_company = _numbers(_row(company, "North"))
    shown_stores = _numbers(_row(region, "N2"))
    assert "not enough responses" in _row(region, "N2")  # hidden with it (complementary)
    for parent_n in north_in_company:
        remainder = parent_n - sum(shown_stores)
        assert remainder == 0 or remainder >= 5 or not shown_stores
    assert "n = 3" not in region and "n = 3" not in company
    # The same counts in the data behind the page.
    data = client.get("/workspace/units/north/data.json").json()
    n1_data = next(c for c in data["children"] if c["unit"] == "n1")["metrics"]
    assert all(cell.get("n") is None and "interval" not in cell for cell in n1_data.values())


def test_values_export_masks_hidden_cells(client, leader, employee_enps):
    client.force_login(leader)
    answer = client.get("/workspace/units/n1/values.export", {"format": "csv"})
    lines = b"".join(answer.streaming_content).decode().splitlines()
    enps = [line for line in lines if line.startswith("employee.enps,n1,")]
    assert enps and all(",,,,True," in line for line in enps)  # value, CI, n empty
    assert client.get("/workspace/units/n1/values.export", {"format": "xlsx"}).status_code == 200
