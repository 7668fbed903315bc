"""Signed webhooks: `response.submitted` and `score.changed` events for a survey's subscribers.

An event becomes one WebhookDelivery row per subscriber, written in the caller's transaction
(so an event exists exactly when its data does) and queued after commit. A Celery task posts
the JSON body with

    X-Cxsurvey-Timestamp: <unix seconds>
    X-Cxsurvey-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + body, keyed by the secret>

and retries transport errors, 5xx, 408 and 429 with exponential backoff; the row records
attempts, the last status code and error. Privacy: employee and anonymous surveys send no
`response.submitted` at all (each event would tell a subscriber, live, that someone just
answered), and their `score.changed` fires only when results are released
(`services.releases`): their results leave the platform only as released, suppression-aware
metric values. `response_items` still strips what an anonymous or employee payload must not
carry, should one be built.
"""

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import FloatField, IntegerField
from django.utils import timezone

from common.broker import publish
from common.net import url_problem

from ..models import Answer, Response, Survey, WebhookDelivery, WebhookSubscription
from ..selectors import masked_column, metric_values
from ..signals import responses_submitted
from ..tasks import deliver_webhook_task
from ..visibility import SYSTEM

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Cxsurvey-Signature"
TIMESTAMP_HEADER = "X-Cxsurvey-Timestamp"
EVENT_HEADER = "X-Cxsurvey-Event"
DELIVERY_HEADER = "X-Cxsurvey-Delivery"
RESPONSES_PER_DELIVERY = 500
MAX_SCORE_VALUES = 1000
TIMEOUT_SECONDS = 10
SIGNATURE_TOLERANCE_SECONDS = 300
STALLED_AFTER = timedelta(minutes=10)
RETRYABLE_STATUSES = {408, 429}
Event = WebhookSubscription.Event
Status = WebhookDelivery.Status


class WebhookTransportError(ConnectionError):
    """The subscriber could not be reached or answered 5xx/408/429: worth a retry."""


# ------------------------------------------------------------------ signatures


def sign(*, secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp`."""
    message = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    *, secret: str, timestamp: str, body: bytes, signature: str, now: float | None = None
) -> bool:
    """What a subscriber checks: the signature matches and the timestamp is recent."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        return False
    expected = sign(secret=secret, timestamp=timestamp, body=body)
    return age <= SIGNATURE_TOLERANCE_SECONDS and hmac.compare_digest(expected, signature)


# ------------------------------------------------------------------ events


def _subscriptions(survey_id: int, event: str) -> list[WebhookSubscription]:
    subscriptions = WebhookSubscription.objects.filter(survey_id=survey_id, active=True)
    return [subscription for subscription in subscriptions if subscription.wants(event)]


def _enqueue(subscriptions: list[WebhookSubscription], event: str, payloads: list[dict]) -> int:
    """Write one delivery per subscriber and payload; queue them once the data is committed."""
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(subscription=subscription, event=event, payload=payload)
        for subscription in subscriptions
        for payload in payloads
    )
    delivery_ids = [delivery.pk for delivery in deliveries]
    # Robust: a failure after commit leaves the deliveries pending for the stalled sweep.
    transaction.on_commit(lambda: queue_deliveries(delivery_ids), robust=True)
    return len(delivery_ids)


def queue_deliveries(delivery_ids: Iterable[int]) -> None:
    """Send the delivery tasks; with the broker down, `requeue_stalled_deliveries` retries."""
    for delivery_id in delivery_ids:
        try:
            publish(deliver_webhook_task, (delivery_id,))
        except Exception:  # broker down: the row stays pending for the sweep
            logger.warning("Could not queue webhook delivery %s", delivery_id, exc_info=True)


def _envelope(survey: Survey, event: str) -> dict[str, Any]:
    return {
        "event": event,
        "sent_for": {"survey": survey.slug, "title": survey.title, "audience": survey.audience},
        "created_at": timezone.now().isoformat(),
    }


def notify_response_submitted(*, survey: Survey, response_ids: list[int]) -> int:
    """Create `response.submitted` deliveries for new responses (call inside the write's
    transaction); one delivery per subscriber and batch of 500 responses; none for employee
    and anonymous surveys. Returns the number of deliveries."""
    if survey.is_confidential:
        return 0  # a live event per employee answer would count a small team as it answers
    subscriptions = _subscriptions(survey.pk, Event.RESPONSE_SUBMITTED)
    if not subscriptions or not response_ids:
        return 0
    items = response_items(survey, response_ids)
    payloads = [
        {**_envelope(survey, Event.RESPONSE_SUBMITTED), "responses": items[start : start + size]}
        for size in (RESPONSES_PER_DELIVERY,)
        for start in range(0, len(items), size)
    ]
    return _enqueue(subscriptions, Event.RESPONSE_SUBMITTED, payloads)


def notify_score_changed(*, survey_id: int, period: str, metric_keys: Iterable[str]) -> int:
    """Create `score.changed` deliveries after a recompute changed stored values: the
    period, the metric keys and their current values by unit (suppressed cells null). For
    employee metrics stored values change only at a release, so that is when it fires."""
    keys = sorted(set(metric_keys))
    subscriptions = _subscriptions(survey_id, Event.SCORE_CHANGED)
    survey = Survey.objects.filter(pk=survey_id).first()
    if not subscriptions or not keys or survey is None:
        return 0
    values = score_values(keys, period)
    payload = {
        **_envelope(survey, Event.SCORE_CHANGED),
        "period": period,
        "metrics": keys,
        "values": values[:MAX_SCORE_VALUES],
        "truncated": len(values) > MAX_SCORE_VALUES,
    }
    return _enqueue(subscriptions, Event.SCORE_CHANGED, [payload])


# ------------------------------------------------------------------ payloads


def score_values(metric_keys: list[str], period: str) -> list[dict[str, Any]]:
    """Values of the metrics in one period by unit, masked where suppressed."""
    rows = (
        metric_values(reader=SYSTEM, metric_keys=metric_keys, periods=[period])
        .annotate(
            shown_value=masked_column("value", FloatField()),
            shown_ci_low=masked_column("ci_low", FloatField()),
            shown_ci_high=masked_column("ci_high", FloatField()),
            shown_n=masked_column("n", IntegerField()),
        )
        .values_list(
            *("metric__key", "unit__code", "shown_value", "shown_ci_low", "shown_ci_high"),
            *("shown_n", "suppressed"),
        )[: MAX_SCORE_VALUES + 1]
    )
    names = ("metric", "unit", "value", "ci_low", "ci_high", "n", "suppressed")
    return [dict(zip(names, row, strict=True)) for row in rows]


def response_items(survey: Survey, response_ids: list[int]) -> list[dict[str, Any]]:
    """One payload item per response, with only what the survey's privacy allows."""
    responses = Response.objects.filter(pk__in=response_ids).order_by("pk")
    if survey.is_employee:
        rows = responses.values_list("period", "submitted_at")
        return [{"period": period, "submitted_on": _day(moment)} for period, moment in rows]
    answers = _answers_by_response(response_ids)
    fields = ("pk", "unit__code", "period", "submitted_at", "channel", "language")
    items = []
    for (
        pk,
        unit,
        period,
        moment,
        channel,
        language,
        key,
        external,
        segment,
    ) in responses.values_list(*fields, "respondent_key", "external_id", "segment"):
        item = {"unit": unit, "period": period, "channel": channel, "language": language}
        item["answers"] = answers.get(pk, {})
        if survey.anonymous:
            item["submitted_on"] = _day(moment)
        else:
            item.update(id=pk, submitted_at=moment.isoformat(), respondent_key=key)
            item.update(external_id=external, segment=segment)
        items.append(item)
    return items


def _day(moment) -> str:
    return timezone.localtime(moment).date().isoformat()


def _answers_by_response(response_ids: list[int]) -> dict[int, dict[str, Any]]:
    answers: dict[int, dict[str, Any]] = defaultdict(dict)
    rows = Answer.objects.filter(response_id__in=response_ids).values_list(
        "response_id", "question__code", "number", "text", "choice__value"
    )
    for response_id, code, number, text, choice in rows:
        answers[response_id][code] = choice or (number if number is not None else text)
    links = Answer.choices.through.objects.filter(answer__response_id__in=response_ids)
    for response_id, code, value in links.values_list(
        "answer__response_id", "answer__question__code", "choice__value"
    ):
        picked = answers[response_id].get(code)
        answers[response_id][code] = [*picked, value] if isinstance(picked, list) else [value]
    return answers


# ------------------------------------------------------------------ delivery


def deliver_webhook(*, delivery_id: int, last_attempt: bool = False) -> None:
    """Post one pending delivery, signed; record the attempt.

    A gone or settled delivery is left alone (safe to retry). Transport errors, 5xx, 408 and
    429 raise WebhookTransportError for the task to retry, unless `last_attempt`, when the
    delivery is marked failed; any other 4xx fails at once, since a retry would not help.
    """
    delivery = (
        WebhookDelivery.objects.select_related("subscription")
        .filter(pk=delivery_id, status=Status.PENDING)
        .first()
    )
    if delivery is None:
        return
    # Checked again at delivery: the host may resolve elsewhere than when it was saved.
    refused = url_problem(delivery.subscription.url)
    code, error = (None, f"Refused: {refused}") if refused else _post(delivery)
    delivery.attempts += 1
    delivery.response_code, delivery.last_error = code, error[:2000]
    retry = bool(error) and not refused
    retry = retry and (code is None or code >= 500 or code in RETRYABLE_STATUSES)
    if not error:
        delivery.status, delivery.delivered_at = Status.DELIVERED, timezone.now()
    elif not retry or last_attempt:
        delivery.status = Status.FAILED
    delivery.save(
        update_fields=["attempts", "response_code", "last_error", "status", "delivered_at"]
    )
    if delivery.status == Status.PENDING:
        raise WebhookTransportError(f"delivery {delivery_id}: {error}")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect could turn the signed POST into a GET elsewhere; it counts as a failure.
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """(HTTP status or None, error text or "") of one signed POST."""
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(delivery.subscription.url, data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("User-Agent", "cxsurvey-webhooks/1")
    request.add_header(EVENT_HEADER, delivery.event)
    request.add_header(DELIVERY_HEADER, str(delivery.pk))
    request.add_header(TIMESTAMP_HEADER, timestamp)
    request.add_header(
        SIGNATURE_HEADER, sign(secret=delivery.subscription.secret, timestamp=timestamp, body=body)
    )
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as answer:
            return answer.status, ("" if 200 <= answer.status < 300 else f"HTTP {answer.status}")
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        return None, f"{type(error).__name__}: {error}"


def requeue_stalled_deliveries() -> int:
    """Queue again deliveries never attempted for a while (their task was lost)."""
    stalled = WebhookDelivery.objects.filter(
        status=Status.PENDING, attempts=0, created_at__lt=timezone.now() - STALLED_AFTER
    )
    delivery_ids = list(stalled.values_list("pk", flat=True)[:1000])
    queue_deliveries(delivery_ids)
    return len(delivery_ids)


def announce_responses(*, survey: Survey, responses: Sequence[Response]) -> None:
    """Send `signals.responses_submitted` for new customer responses (call inside the write's
    transaction); never for employee and anonymous surveys, whose answers nobody may follow
    one by one. `contactable_ids` are those naming a customer (a respondent key or an
    invitation): only they can ever be followed up, so receivers need not look at the rest."""
    if survey.is_confidential or not responses:
        return
    responses_submitted.send(
        sender=Survey,
        survey=survey,
        response_ids=[response.pk for response in responses],
        contactable_ids=[
            response.pk
            for response in responses
            if response.respondent_key or response.invitation_id
        ],
    )
