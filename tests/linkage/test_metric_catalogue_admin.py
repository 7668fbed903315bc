"""Admin: the metric catalogue (editable, synced from questions) and read-only metric values."""

import pytest
from django.urls import reverse

from surveys.models import Metric, MetricValue, Question
from surveys.services.scores import recompute_all
from tests.factories import (
    MetricFactory,
    MetricValueFactory,
    OrgUnitFactory,
    QuestionFactory,
    add_answers,
)

pytestmark = pytest.mark.django_db


def test_metric_catalogue_sync_button_creates_metrics_from_questions(client, owner):
    QuestionFactory(metric_key="customer.nps")
    client.force_login(owner)
    page = client.get(reverse("admin:surveys_metric_changelist"))
    assert b"Sync metrics from questions" in page.content
    response = client.post(reverse("admin:surveys_metric_sync"))
    assert response.status_code == 302
    assert Metric.objects.get(key="customer.nps").aggregation == Metric.Aggregation.NPS


def test_metric_catalogue_is_closed_to_outsiders(client, outsider):
    client.force_login(outsider)
    response = client.post(reverse("admin:surveys_metric_sync"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not Metric.objects.exists()


def test_metric_value_admin_hides_suppressed_values_and_counts(client, owner):
    metric = MetricFactory(key="employee.enps")
    hidden_unit, shown_unit = OrgUnitFactory(name="Tiny team"), OrgUnitFactory(name="Big team")
    MetricValueFactory(metric=metric, unit=hidden_unit, value=None, n=0, suppressed=True)
    MetricValueFactory(metric=metric, unit=shown_unit, value=42.5, n=417)
    client.force_login(owner)
    page = client.get(reverse("admin:surveys_metricvalue_changelist")).content.decode()
    assert "hidden (below threshold)" in page and "42.50" in page and "417" in page
    assert client.get(reverse("admin:surveys_metricvalue_add")).status_code == 403


def _change_form_data(metric: Metric, **changes) -> dict:
    fields = ("key", "name", "description", "source", "aggregation", "direction")
    data = {field: getattr(metric, field) for field in fields}
    data.update(chain_stage=metric.chain_stage, perspective=metric.perspective)
    data.update(level=metric.level, unit_label=metric.unit_label, top_box_min="")
    return {**data, **changes}


def test_metric_catalogue_edit_of_aggregation_recomputes_stored_values(
    client, owner, org_tree, django_capture_on_commit_callbacks
):
    question = QuestionFactory(type=Question.Type.CSAT, metric_key="customer.csat")
    store = org_tree["stores"][0]
    add_answers(question, store, [5, 4, 2, 1])
    recompute_all()
    metric = Metric.objects.get(key="customer.csat")
    assert MetricValue.objects.get(metric=metric, unit=store).value == 50.0  # top-2-box
    client.force_login(owner)
    url = reverse("admin:surveys_metric_change", args=[metric.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, _change_form_data(metric, aggregation="mean"))
    assert response.status_code == 302
    values = MetricValue.objects.filter(metric=metric)
    assert {row.unit_id: row.value for row in values} == {
        unit.pk: 3.0 for unit in (store, org_tree["north"], org_tree["company"])
    }


def test_metric_catalogue_edit_of_labels_recomputes_nothing(
    client, owner, org_tree, django_capture_on_commit_callbacks
):
    QuestionFactory(type=Question.Type.CSAT, metric_key="customer.csat")
    metric = MetricFactory(key="customer.csat", aggregation=Metric.Aggregation.TOP_BOX)
    client.force_login(owner)
    url = reverse("admin:surveys_metric_change", args=[metric.pk])
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url, _change_form_data(metric, name="Satisfaction"))
    assert response.status_code == 302 and callbacks == []
    assert Metric.objects.get(pk=metric.pk).name == "Satisfaction"
