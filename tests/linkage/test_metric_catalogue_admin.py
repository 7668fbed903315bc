"""Admin: the metric catalogue (editable, synced from questions) and read-only metric values."""

import pytest
from django.urls import reverse

from linkage.models import Metric
from tests.factories import MetricFactory, MetricValueFactory, OrgUnitFactory, QuestionFactory

pytestmark = pytest.mark.django_db


def test_metric_catalogue_sync_button_creates_metrics_from_questions(client, owner):
    QuestionFactory(metric_key="customer.nps")
    client.force_login(owner)
    page = client.get(reverse("admin:linkage_metric_changelist"))
    assert b"Sync metrics from questions" in page.content
    response = client.post(reverse("admin:linkage_metric_sync"))
    assert response.status_code == 302
    assert Metric.objects.get(key="customer.nps").aggregation == Metric.Aggregation.NPS


def test_metric_catalogue_is_closed_to_outsiders(client, outsider):
    client.force_login(outsider)
    response = client.post(reverse("admin:linkage_metric_sync"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not Metric.objects.exists()


def test_metric_value_admin_hides_suppressed_values_and_counts(client, owner):
    metric = MetricFactory(key="employee.enps")
    hidden_unit, shown_unit = OrgUnitFactory(name="Tiny team"), OrgUnitFactory(name="Big team")
    MetricValueFactory(metric=metric, unit=hidden_unit, value=None, n=0, suppressed=True)
    MetricValueFactory(metric=metric, unit=shown_unit, value=42.5, n=417)
    client.force_login(owner)
    page = client.get(reverse("admin:linkage_metricvalue_changelist")).content.decode()
    assert "hidden (below threshold)" in page and "42.50" in page and "417" in page
    assert client.get(reverse("admin:linkage_metricvalue_add")).status_code == 403
