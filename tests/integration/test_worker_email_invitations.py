"""A real Celery worker on Redis sends invitation e-mails in batches, opens a follow-up case
for a detractor, and sends a due reminder once."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from distribution.models import Contact, FollowUpCase, ReminderSchedule, SendLog
from distribution.services.sending import invite_contacts, send_due_reminders
from surveys.models import Invitation, Question
from surveys.services import submit_response
from tests.distribution.factories import ContactFactory
from tests.factories import QuestionFactory, SurveyFactory
from tests.integration.services import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_worker_sends_invitations_reminders_and_opens_cases(org_tree, worker, settings):
    settings.EMAIL_BATCH_SIZE = 2  # three tasks for five e-mails
    survey = SurveyFactory()
    QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS)
    for number in range(5):
        ContactFactory(email=f"c{number}@example.com", unit=org_tree["stores"][0])

    assert invite_contacts(survey=survey, contacts=Contact.objects.all(), base_url="http://x") == 5
    assert wait_for(lambda: SendLog.objects.filter(status="sent").count() == 5)
    assert sorted(message.to[0] for message in mail.outbox) == [
        f"c{n}@example.com" for n in range(5)
    ]

    first = Invitation.objects.get(contact="c0@example.com")
    submit_response(survey=survey, answers={"nps": 2}, token=first.token)
    assert wait_for(lambda: FollowUpCase.objects.filter(response__invitation=first).exists())

    Invitation.objects.update(created_at=timezone.now() - timedelta(days=4))
    schedule = ReminderSchedule.objects.create(survey=survey, after_days=3, max_reminders=1)
    assert send_due_reminders(schedule=schedule) == 4
    assert send_due_reminders(schedule=schedule) == 0
    assert wait_for(lambda: SendLog.objects.filter(kind="reminder", status="sent").count() == 4)
    assert len(mail.outbox) == 9
