"""No 500 from hostile input: generated values (NUL, control characters, huge and non-finite
numbers, out-of-range periods and dates, deeply nested or NaN JSON) go into every form field
and query parameter a respondent, a leader or an administrator can reach, and no answer is a
server error. Stored values outside the sane window do not break the pages that read them."""

import io
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveys.models import Metric, OrgUnit, Question
from tests.factories import MetricFactory, MetricValueFactory, QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db

FIXED = [
    "\x00",
    "a\x00b",
    "%00",
    "9999-12",
    "0000-01",
    "9999-Q4",
    "1e308",
    "-1e308",
    "1e309",
    "NaN",
    "Infinity",
    "-0",
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "[" * 5000 + "]" * 5000,
    '{"a": NaN}',
    '{"a": "\\u0000"}',
    '{"a": {"b": [1, {"c": 2}]}}',
    '{"product": 1e999}',
    "'; DROP TABLE x; --",
    "../../etc/passwd",
    "\u202e\ufeff",
    "x" * 6000,
    "n1",
    "acme",
]
HOSTILE = st.one_of(
    st.sampled_from(FIXED),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
)


@pytest.fixture
def world(org_tree, owner, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"public_submit": "100000/minute"},
    }
    survey = SurveyFactory(slug="hostile", root_unit=org_tree["company"])
    QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS, metric_key="customer.nps")
    QuestionFactory(survey=survey, code="note", type=Question.Type.TEXT, required=False)
    MetricFactory(key="customer.nps")
    revenue = MetricFactory(
        key="outcome.revenue", source=Metric.Source.OUTCOME, aggregation=Metric.Aggregation.SUM
    )
    store = org_tree["stores"][0]
    # Values stored before the window and the value bounds were enforced.
    for period, value in (("9999-12", 1e308), ("0000-01", -1e308), ("2026-01", 5.0)):
        for unit in (store, org_tree["north"]):
            MetricValueFactory(metric=revenue, unit=unit, period=period, value=value)
    client = Client()
    client.force_login(owner)
    return {"client": client, "store": store}


def _admin_changelists() -> list[str]:
    return [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]


def _requests(value: str, store: OrgUnit):
    q = quote(value, safe="")
    yield "get", f"/s/hostile/?u={q}", None
    yield "get", f"/s/hostile/?u=n1&preview={q}", None
    yield "post", "/s/hostile/?u=n1", {"nps": value, "note": value, "unit": value}
    yield "post", f"/s/hostile/?u={q}", {"nps": "9", "unit": value}
    yield "get", f"/r/{q}/", None
    yield "post", f"/r/{q}/", {"nps": value}
    yield "get", f"/dashboard/?unit={q}", None
    yield "get", f"/dashboard/units/{store.code}/scorecard/", None
    yield "get", f"/dashboard/units/{store.code}/readings.json", None
    yield "get", "/dashboard/units/north/scorecard/", None
    yield (
        "post",
        reverse("admin:linkage_performanceexpectation_add"),
        {
            "title": value,
            "metric": value,
            "unit": value,
            "segment_filter": value,
            "baseline_period": value,
            "target_kind": value,
            "target_change": value,
            "start_date": value,
            "end_date": value,
        },
    )
    yield (
        "post",
        reverse("admin:linkage_performanceexpectation_add"),
        {
            "title": "Fewer complaints",
            "metric": Metric.objects.get(key="customer.nps").pk,
            "unit": store.pk,
            "segment_filter": value,
            "baseline_period": "2026-01",
            "target_kind": "absolute",
            "target_change": "5",
            "start_date": "2026-01-01",
            "end_date": value,
        },
    )
    csv = f"unit_code,period,metric_key,value\nn1,{value},outcome.revenue,{value}\n"
    upload = io.BytesIO(csv.encode("utf-8", "surrogatepass"))
    upload.name = "outcomes.csv"
    yield "post", reverse("admin:linkage_outcomeimport_upload"), {"file": upload}


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=HOSTILE)
def test_no_page_or_form_answers_5xx_to_hostile_values(world, value):
    client, store = world["client"], world["store"]
    for method, url, data in _requests(value, store):
        answer = getattr(client, method)(url, data) if data is not None else client.get(url)
        assert answer.status_code < 500, (method, url, value[:80])


def test_admin_changelists_survive_hostile_query_parameters(world):
    client = world["client"]
    values = ["\x00", "9999-12", "[" * 500, "-1", "x" * 3000, "1e308", "2026-02-30"]
    for url in _admin_changelists():
        for value in values:
            q = quote(value, safe="")
            answer = client.get(f"{url}?q={q}&o={q}&p={q}&all={q}&submitted_at__gte={q}")
            assert answer.status_code < 500, (url, value[:40])


@pytest.mark.parametrize(
    "line, problem",
    [
        ("n1,9999-12,outcome.revenue,5", "outside the periods"),
        ("n1,0000-01,outcome.revenue,5", "outside the periods"),
        ("n1,2026-01,outcome.revenue,1e308", "outside ±"),
    ],
)
def test_outcome_import_refuses_out_of_window_periods_and_huge_values(world, line, problem):
    from linkage.services.outcomes import import_outcome_file

    record = import_outcome_file(lines=["unit_code,period,metric_key,value", line])

    assert record.status == record.Status.REFUSED
    assert problem in record.errors[0]["message"]


def test_nul_in_a_page_address_answers_400(world):
    client = world["client"]
    for url in ("/s/hostile/?u=%00", "/r/%00/", "/dashboard/?unit=%00"):
        assert client.get(url).status_code == 400, url
