"""Webhooks: signed deliveries to a real local HTTP server, retries, the delivery log and
privacy of anonymous employee payloads."""

import http.server
import json
import threading
from collections import deque

import pytest

from cxsurvey.celery import app as celery_app
from surveys.models import DirtyScoreCell, Question, Survey, WebhookDelivery
from surveys.services import import_responses, submit_response
from surveys.services.scores import recompute_dirty_cell
from surveys.services.webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    notify_score_changed,
    response_items,
    sign,
    verify_signature,
)
from surveys.tasks import WEBHOOK_MAX_RETRIES, deliver_webhook_task
from tests.factories import (
    MetricFactory,
    MetricValueFactory,
    QuestionFactory,
    SurveyFactory,
    WebhookSubscriptionFactory,
)

pytestmark = pytest.mark.django_db


class Subscriber(http.server.BaseHTTPRequestHandler):
    """Records every POST; answers with the next queued status (200 when none is left)."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers), body))
        status = self.server.statuses.popleft() if self.server.statuses else 200
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def subscriber():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Subscriber)
    server.received, server.statuses = [], deque()
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}/hook"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def survey(org_tree):
    survey = SurveyFactory(slug="visits")
    QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS)
    return survey


@pytest.fixture(autouse=True)
def eager_retries_run_inline():
    # With propagation on, an eager task hands its Retry to the caller instead of re-running.
    previous = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = previous


def only_delivery() -> WebhookDelivery:
    return WebhookDelivery.objects.get()


def test_signature_verifies_and_detects_tampering():
    body = b'{"event":"response.submitted"}'
    signature = sign(secret="s3cret", timestamp="1700000000", body=body)

    assert verify_signature(
        secret="s3cret", timestamp="1700000000", body=body, signature=signature, now=1700000100
    )
    assert not verify_signature(
        secret="s3cret",
        timestamp="1700000000",
        body=body + b" ",
        signature=signature,
        now=1700000100,
    )
    assert not verify_signature(
        secret="other", timestamp="1700000000", body=body, signature=signature, now=1700000100
    )
    assert not verify_signature(  # replayed long after it was signed
        secret="s3cret", timestamp="1700000000", body=body, signature=signature, now=1700009999
    )


def test_response_submitted_is_delivered_signed_after_commit(
    survey, org_tree, subscriber, django_capture_on_commit_callbacks
):
    subscription = WebhookSubscriptionFactory(survey=survey, url=subscriber.url)

    with django_capture_on_commit_callbacks(execute=True):
        response = submit_response(survey=survey, answers={"nps": 9}, unit=org_tree["stores"][0])

    [(headers, body)] = subscriber.received
    assert verify_signature(
        secret=subscription.secret,
        timestamp=headers[TIMESTAMP_HEADER],
        body=body,
        signature=headers[SIGNATURE_HEADER],
    )
    payload = json.loads(body)
    assert payload["event"] == "response.submitted"
    assert payload["responses"] == [
        {
            **payload["responses"][0],
            "id": response.pk,
            "unit": "n1",
            "answers": {"nps": 9.0},
        }
    ]
    delivery = only_delivery()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 1, 200)


def test_no_delivery_before_commit_or_without_subscribers(survey, org_tree, subscriber):
    WebhookSubscriptionFactory(survey=survey, url=subscriber.url, active=False)
    WebhookSubscriptionFactory(survey=survey, url=subscriber.url, events=["score.changed"])

    submit_response(survey=survey, answers={"nps": 9}, unit=org_tree["stores"][0])

    assert not WebhookDelivery.objects.exists()
    assert subscriber.received == []


def test_anonymous_employee_survey_sends_no_response_event_and_payload_identifies_nobody(
    org_tree, subscriber
):
    survey = SurveyFactory(
        audience=Survey.Audience.EMPLOYEE, anonymous=True, kind="pulse", allow_public_link=True
    )
    QuestionFactory(survey=survey, code="enps", type=Question.Type.NPS)
    WebhookSubscriptionFactory(survey=survey, url=subscriber.url)

    response = submit_response(
        survey=survey,
        answers={"enps": 2},
        unit=org_tree["stores"][0],
        meta={"respondent_key": "emp-42"},
    )

    assert not WebhookDelivery.objects.exists()  # a live event would count a small team
    [item] = response_items(survey, [response.pk])
    assert set(item) == {"period", "submitted_on"}
    assert len(item["submitted_on"]) == 10  # a day, no time


def test_anonymous_customer_survey_sends_no_response_event_and_payload_has_no_identity(
    org_tree, subscriber
):
    survey = SurveyFactory(anonymous=True)
    QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS)
    WebhookSubscriptionFactory(survey=survey, url=subscriber.url)

    response = submit_response(
        survey=survey,
        answers={"nps": 7},
        unit=org_tree["stores"][0],
        meta={"respondent_key": "cust-9"},
    )

    assert not WebhookDelivery.objects.exists()
    [item] = response_items(survey, [response.pk])
    assert item["answers"] == {"nps": 7.0}
    assert not {"id", "respondent_key", "external_id", "segment", "submitted_at"} & set(item)


def test_bulk_import_sends_batches_of_responses(survey, subscriber, monkeypatch):
    monkeypatch.setattr("surveys.services.webhooks.RESPONSES_PER_DELIVERY", 2)
    WebhookSubscriptionFactory(survey=survey, url=subscriber.url)

    import_responses(survey=survey, rows=[{"unit": "n1", "answers": {"nps": 5}}] * 5)

    sizes = sorted(len(d.payload["responses"]) for d in WebhookDelivery.objects.all())
    assert sizes == [1, 2, 2]


def test_delivery_retries_server_errors_then_succeeds(survey, subscriber):
    subscription = WebhookSubscriptionFactory(survey=survey, url=subscriber.url)
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event="response.submitted", payload={"x": 1}
    )
    subscriber.statuses.extend([500, 503])

    deliver_webhook_task.apply(args=[delivery.pk])  # eager: retries run at once

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 3, 200)
    assert len(subscriber.received) == 3


def test_delivery_fails_after_max_retries_and_logs_the_error(survey, subscriber):
    subscription = WebhookSubscriptionFactory(survey=survey, url=subscriber.url)
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event="response.submitted", payload={}
    )
    subscriber.statuses.extend([502] * 20)

    deliver_webhook_task.apply(args=[delivery.pk])

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", WEBHOOK_MAX_RETRIES + 1)
    assert (delivery.response_code, delivery.last_error) == (502, "HTTP 502")


def test_delivery_client_error_fails_at_once(survey, subscriber):
    subscription = WebhookSubscriptionFactory(survey=survey, url=subscriber.url)
    delivery = WebhookDelivery.objects.create(subscription=subscription, event="x", payload={})
    subscriber.statuses.append(410)

    deliver_webhook_task.apply(args=[delivery.pk])

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 1, 410)


def test_unreachable_subscriber_is_a_transport_error(survey, subscriber, monkeypatch):
    monkeypatch.setattr(deliver_webhook_task, "max_retries", 1)
    subscription = WebhookSubscriptionFactory(survey=survey, url="http://127.0.0.1:9/closed")
    delivery = WebhookDelivery.objects.create(subscription=subscription, event="x", payload={})

    deliver_webhook_task.apply(args=[delivery.pk])

    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert delivery.response_code is None
    assert "refused" in delivery.last_error.lower() or "error" in delivery.last_error.lower()


def test_settled_delivery_is_not_sent_again(survey, subscriber):
    subscription = WebhookSubscriptionFactory(survey=survey, url=subscriber.url)
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event="x", payload={}, status="delivered", attempts=1
    )

    deliver_webhook_task.apply(args=[delivery.pk])

    assert subscriber.received == []


def test_score_changed_carries_masked_values(survey, org_tree, subscriber):
    WebhookSubscriptionFactory(survey=survey, url=subscriber.url, events=["score.changed"])
    metric = MetricFactory(key="employee.enps")
    store = org_tree["stores"][0]
    MetricValueFactory(
        metric=metric, unit=store, period="2026-01", value=None, n=2, suppressed=True
    )
    MetricValueFactory(metric=metric, unit=org_tree["north"], period="2026-01", value=10.0, n=8)

    assert notify_score_changed(
        survey_id=survey.pk, period="2026-01", metric_keys=["employee.enps"]
    )

    values = {row["unit"]: row for row in only_delivery().payload["values"]}
    assert (values["n1"]["value"], values["n1"]["n"], values["n1"]["suppressed"]) == (
        None,
        None,
        True,
    )
    assert (values["north"]["value"], values["north"]["n"]) == (10.0, 8)


def test_recompute_that_changes_scores_sends_score_changed(survey, org_tree, subscriber):
    survey.questions.update(metric_key="customer.nps")
    WebhookSubscriptionFactory(survey=survey, url=subscriber.url, events=["score.changed"])
    import_responses(survey=survey, rows=[{"unit": "n1", "answers": {"nps": 10}}] * 3)
    period = DirtyScoreCell.objects.get().period

    recompute_dirty_cell(survey_id=survey.pk, period=period)
    recompute_dirty_cell(survey_id=survey.pk, period=period)  # nothing changed the second time

    [delivery] = WebhookDelivery.objects.filter(event="score.changed")
    assert delivery.payload["metrics"] == ["customer.nps"]
    assert {row["unit"] for row in delivery.payload["values"]} >= {"n1", "north", "acme"}
