"""The demo tells a true story (issue 11, item 9): the initiative with an effect built into
the generator verifies, the one without is reported as no evidence, each with its sentence."""

from decimal import Decimal

import pytest

from demo.seed import DemoOptions, seed_demo
from linkage.models import Initiative
from linkage.presentation import initiative_sentences

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_seeded_demo_verifies_the_real_initiative_and_not_the_other():
    seed_demo(options=DemoOptions(stores=12, months=6, customers_per_store=60))
    tracking = Initiative.objects.get(title="Delivery tracking texts for Product X")
    queue = Initiative.objects.get(title="Checkout queue-busting at peak hours")
    assert tracking.stage == queue.stage == Initiative.Stage.MEASURED
    evidence = tracking.verification["metrics"][0]
    assert tracking.verification["segment"] == {"product": "X"}
    assert evidence["level"] == "stores (difference in differences)"
    assert evidence["significant"] and evidence["improved"]
    assert tracking.verified_impact == Decimal("420000")
    assert queue.verification["supported"] is False and queue.verified_impact == 0
    assert not any(item["significant"] for item in queue.verification["metrics"])
    assert initiative_sentences(tracking)[-1].startswith("Verified:")
    assert initiative_sentences(queue)[-1].startswith("No evidence of impact yet")
