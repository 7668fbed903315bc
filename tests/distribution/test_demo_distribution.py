from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from distribution.models import Contact, FollowUpCase, ReminderSchedule, SendLog, WaveSchedule
from distribution.services.schedules import open_next_wave
from distribution.services.sending import send_due_reminders
from surveys.models import ResultRelease

pytestmark = pytest.mark.django_db(transaction=True)

TINY = ["--stores", "4", "--months", "2", "--customers-per-store", "3"]


def test_demo_story_can_be_walked(client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", *TINY, stdout=StringIO(), stderr=StringIO(), verbosity=0)
    assert Contact.objects.count() == 16
    assert SendLog.objects.filter(status="sent").count() == 10 + 6  # customers, first wave
    cases = FollowUpCase.objects.order_by("pk")
    assert [case.status for case in cases] == ["closed", "open"]

    # A non-responder gets one reminder and no more.
    mail.outbox.clear()
    schedule = ReminderSchedule.objects.get()
    assert send_due_reminders(schedule=schedule) == 6
    assert send_due_reminders(schedule=schedule) == 0
    assert len(mail.outbox) == 6

    # The manager works the open case from the case list.
    from django.contrib.auth.models import User

    client.force_login(User.objects.get(username="manager"))
    page = client.get("/distribution/cases/")
    assert page.status_code == 200 and f"#{cases[1].pk}<" in page.content.decode()
    page = client.post(
        f"/distribution/cases/{cases[1].pk}/", {"action": "close", "close-outcome": "resolved"}
    )
    assert page.status_code == 302

    # The next pulse wave opens on schedule and releases the first one's results.
    wave = open_next_wave(schedule=WaveSchedule.objects.get(), now=timezone.now())
    assert wave is not None and wave.number == 2
    assert ResultRelease.objects.filter(survey__wave__number=1).exists()
