"""Receivers of `surveys` signals (surveys never imports this app)."""

from collections.abc import Callable

from django.db import transaction
from django.dispatch import receiver

from surveys.models import Survey
from surveys.signals import customer_erased, responses_submitted

from .models import Contact, FollowUpCase
from .tasks import open_follow_up_cases_task

CASE_TASK_BATCH = 500


@receiver(responses_submitted, dispatch_uid="distribution.follow_up_cases")
def queue_follow_up_cases(sender, *, survey: Survey, contactable_ids: list[int], **kwargs) -> None:
    """Customer answers only: detractors may be called back; employees never are. Only
    responses naming a customer can be (anonymous public-link answers have nobody to call),
    so the rest queue no task: no broker round trip on their request, no worker time."""
    if survey.is_confidential or not contactable_ids:
        return
    for start in range(0, len(contactable_ids), CASE_TASK_BATCH):
        batch = contactable_ids[start : start + CASE_TASK_BATCH]
        transaction.on_commit(_queue(batch), robust=True)


def _queue(batch: list[int]) -> Callable[[], object]:
    return lambda: open_follow_up_cases_task.delay(batch)


@receiver(customer_erased, dispatch_uid="distribution.erase_customer")
def erase_contacts_and_cases(sender, *, customer_keys: set[str], contact: str, **kwargs) -> None:
    """An erased customer leaves no contact row, and their cases keep only their outcome."""
    contacts = Contact.objects.filter(customer_id__in=customer_keys)
    cases = FollowUpCase.objects.filter(customer_id__in=customer_keys)
    if contact:
        contacts = contacts | Contact.objects.filter(email__iexact=contact)
        cases = cases | FollowUpCase.objects.filter(contact__iexact=contact)
    cases.update(customer_id="", contact="", notes="")
    contacts.delete()
