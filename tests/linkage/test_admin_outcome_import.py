"""Admin upload page for outcome files: runs the import and lists per-line problems."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from linkage.models import OutcomeImport
from surveys.models import Metric, MetricValue
from tests.factories import MetricFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def upload_url():
    return reverse("admin:linkage_outcomeimport_upload")


def csv_file(*lines: str) -> SimpleUploadedFile:
    text = "\n".join(["unit_code,period,metric_key,value", *lines]) + "\n"
    return SimpleUploadedFile("outcomes.csv", text.encode(), content_type="text/csv")


@pytest.fixture
def revenue(org_tree):
    return MetricFactory(
        key="outcome.revenue", aggregation=Metric.Aggregation.SUM, source=Metric.Source.OUTCOME
    )


def test_outcome_upload_shows_each_bad_line_and_writes_nothing(client, owner, revenue, upload_url):
    client.force_login(owner)
    upload = csv_file("n1,2026-01,outcome.revenue,5", "x,2026-01,outcome.revenue,lots")
    page = client.post(upload_url, {"file": upload})
    assert page.status_code == 200
    body = page.content.decode()
    assert "unknown unit &#x27;x&#x27;" in body and "value &#x27;lots&#x27; is not a number" in body
    assert OutcomeImport.objects.get().status == OutcomeImport.Status.REFUSED
    assert not MetricValue.objects.exists()


def test_outcome_upload_skip_bad_writes_good_lines(client, owner, revenue, upload_url):
    client.force_login(owner)
    upload = csv_file("n1,2026-01,outcome.revenue,5", "x,2026-01,outcome.revenue,1")
    client.post(upload_url, {"file": upload, "skip_bad": "on"})
    record = OutcomeImport.objects.get()
    assert (record.status, record.lines_written, record.uploaded_by) == ("partial", 1, owner)
    assert MetricValue.objects.get(unit__code="n1").value == 5


def test_outcome_upload_is_forbidden_without_permission(client, revenue, upload_url):
    client.force_login(UserFactory(username="staff-without-rights", is_staff=True))
    assert client.get(upload_url).status_code == 403
    upload = csv_file("n1,2026-01,outcome.revenue,5")
    assert client.post(upload_url, {"file": upload}).status_code == 403
    assert not OutcomeImport.objects.exists()


def test_outcome_upload_sends_outsider_to_login(client, outsider, upload_url):
    client.force_login(outsider)
    page = client.get(upload_url)
    assert page.status_code == 302 and reverse("admin:login") in page["Location"]


def test_outcome_import_changelist_links_to_upload(client, owner, upload_url):
    client.force_login(owner)
    page = client.get(reverse("admin:linkage_outcomeimport_changelist"))
    assert page.status_code == 200 and upload_url in page.content.decode()
