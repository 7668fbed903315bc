"""Webhook URLs that point into the platform's own network are refused when a subscription is
saved and again when a delivery is sent (DNS may have changed), unless a setting allows it."""

import pytest
from django.core.exceptions import ValidationError

from common.net import is_public_address, url_problem
from surveys.models import WebhookDelivery, WebhookSubscription
from surveys.services.webhooks import deliver_webhook
from tests.factories import SurveyFactory, WebhookSubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def refuse_private(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "fd00::1",
        "0.0.0.0",
        "224.0.0.1",
        "::ffff:127.0.0.1",
        "100.64.0.1",
    ],
)
def test_internal_addresses_are_not_public(address):
    assert not is_public_address(address)


def test_a_public_address_is_allowed():
    assert url_problem("https://hooks.example.com/x", resolve=lambda h, p: ["8.8.8.8"]) == ""


def test_a_host_resolving_to_any_private_address_is_refused():
    problem = url_problem("https://x.example/", resolve=lambda h, p: ["8.8.8.8", "10.0.0.1"])
    assert "10.0.0.1" in problem


def test_saving_a_subscription_to_loopback_is_refused():
    subscription = WebhookSubscription(survey=SurveyFactory(), url="http://127.0.0.1:8000/hook")
    with pytest.raises(ValidationError) as error:
        subscription.full_clean()
    assert "url" in error.value.message_dict


def test_setting_allows_private_addresses(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    subscription = WebhookSubscription(survey=SurveyFactory(), url="http://10.0.0.8/hook")
    subscription.full_clean(exclude=["events"])


def test_delivery_to_an_address_that_became_private_fails_without_sending(monkeypatch):
    subscription = WebhookSubscriptionFactory(url="http://localhost:9/hook")
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event="response.submitted", payload={}
    )
    monkeypatch.setattr(
        "surveys.services.webhooks._post", lambda delivery: pytest.fail("must not send")
    )

    deliver_webhook(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.last_error.startswith("Refused:")
