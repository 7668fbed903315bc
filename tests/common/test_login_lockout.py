"""The admin login locks a username out from an address after repeated failures (django-axes),
while other users and addresses can still log in."""

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/"


def _attempt(client: Client, username: str, password: str, address: str = "198.51.100.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_admin_login_locks_out_after_repeated_failures(settings):
    UserFactory(username="boss", password="right-horse-battery", is_staff=True)
    client = Client()
    failures = [
        _attempt(client, "boss", f"wrong-{index}").status_code
        for index in range(settings.AXES_FAILURE_LIMIT)
    ]

    locked = _attempt(client, "boss", "right-horse-battery")
    elsewhere = _attempt(Client(), "boss", "right-horse-battery", address="203.0.113.9")

    assert failures[:-1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)  # the form again
    assert locked.status_code == 429  # even the right password, from that address
    assert elsewhere.status_code == 302  # the lock-out is per username and address


def test_a_successful_login_before_the_limit_resets_the_count(settings):
    UserFactory(username="boss", password="right-horse-battery", is_staff=True)
    client = Client()
    for index in range(settings.AXES_FAILURE_LIMIT - 1):
        _attempt(client, "boss", f"wrong-{index}")

    assert _attempt(client, "boss", "right-horse-battery").status_code == 302
