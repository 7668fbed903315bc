"""Erasure of one customer's personal data on request, and retention of old personal data.

What goes: the customer's invitations (contact, customer id, segment) and, on their
responses, every field that identifies them (respondent key, external id, the link to the
invitation) and every free-text answer (comments). What stays: the responses themselves with
their unit, period, time and the numbers and options they answered, so every aggregate score
is exactly what it was (nothing to recompute), and the coarse segment attributes that scores
are broken down by. Every erasure and retention pass is in the audit log, with counts only:
the log never repeats what was erased.

Retention (`apply_retention`, a daily beat task) does the same by age: free-text answers
older than RETENTION_FREE_TEXT_DAYS, and identifiers and invitations older than
RETENTION_PERSONAL_DATA_DAYS; 0 keeps them (the default).
"""

from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from common.services import record_event

from ..exceptions import SurveyError
from ..models import Answer, Invitation, Response
from ..signals import customer_erased


class ErasureRequestInvalid(SurveyError):
    """Name the customer: a customer id, a respondent key or a contact e-mail."""


@dataclass(frozen=True)
class Erased:
    """What one erasure or retention pass changed."""

    responses: int = 0  # responses whose identifiers were blanked
    comments: int = 0  # free-text answers blanked
    invitations: int = 0  # invitations deleted

    def __bool__(self) -> bool:
        return bool(self.responses or self.comments or self.invitations)


def _blank_responses(responses: QuerySet[Response]) -> tuple[int, int]:
    ids = list(responses.values_list("pk", flat=True))
    comments = Answer.objects.filter(response_id__in=ids).exclude(text="").update(text="")
    identified = Response.objects.filter(pk__in=ids).filter(
        ~Q(respondent_key="") | ~Q(external_id="") | Q(invitation__isnull=False)
    )
    blanked = identified.update(respondent_key="", external_id="", invitation=None)
    return blanked, comments


@transaction.atomic
def erase_customer(
    *,
    customer_id: str = "",
    respondent_key: str = "",
    contact: str = "",
    actor: User | AnonymousUser | None = None,
    reason: str = "",
) -> Erased:
    """Erase everything personal about one customer, named by any of their customer id
    (invitations, and responses keyed by it), respondent key or contact e-mail/phone
    (invitations, case-insensitive). Scores stay identical. Raises ErasureRequestInvalid
    when no identifier is given. Safe to repeat (a second run erases nothing)."""
    customer_id, respondent_key, contact = (
        value.strip() for value in (customer_id, respondent_key, contact)
    )
    if not (customer_id or respondent_key or contact):
        raise ErasureRequestInvalid()
    invitations = Invitation.objects.none()
    if customer_id:
        invitations = invitations | Invitation.objects.filter(customer_id=customer_id)
    if contact:
        invitations = invitations | Invitation.objects.filter(contact__iexact=contact)
    keys = {key for key in (customer_id, respondent_key) if key}
    customer_erased.send(sender=Response, customer_keys=keys, contact=contact)
    responses = Response.objects.filter(Q(invitation__in=invitations) | Q(respondent_key__in=keys))
    blanked, comments = _blank_responses(responses)
    deleted = invitations.delete()[1].get(Invitation._meta.label, 0)
    erased = Erased(responses=blanked, comments=comments, invitations=deleted)
    given = sorted(
        name
        for name, value in (
            ("customer_id", customer_id),
            ("respondent_key", respondent_key),
            ("contact", contact),
        )
        if value
    )
    record_event(
        actor,
        "customer.erased",
        "customer data",
        {"identified_by": given, "reason": reason[:200], **asdict(erased)},
    )
    return erased


def erase_customers_of(
    responses: QuerySet[Response], *, actor: User | AnonymousUser | None = None
) -> Erased:
    """Erase every customer the given responses belong to (the admin action): by their
    respondent keys and their invitations' customer ids and contacts, each in its own
    audited erasure. Anonymous responses without an identifier are only stripped of text."""
    totals = Erased()
    rows = responses.values_list(
        "pk", "respondent_key", "invitation__customer_id", "invitation__contact"
    )
    seen: set[tuple[str, str, str]] = set()
    unnamed: list[int] = []
    for pk, key, customer_id, contact in rows:
        named = (key or "", customer_id or "", contact or "")
        if not any(named):
            unnamed.append(pk)
        elif named not in seen:
            seen.add(named)
    for key, customer_id, contact in sorted(seen):
        erased = erase_customer(
            respondent_key=key, customer_id=customer_id, contact=contact, actor=actor
        )
        totals = _add(totals, erased)
    if unnamed:
        with transaction.atomic():
            _, comments = _blank_responses(Response.objects.filter(pk__in=unnamed))
            record_event(actor, "customer.erased", "customer data", {"comments": comments})
        totals = _add(totals, Erased(comments=comments))
    return totals


def _add(left: Erased, right: Erased) -> Erased:
    return Erased(
        responses=left.responses + right.responses,
        comments=left.comments + right.comments,
        invitations=left.invitations + right.invitations,
    )


@transaction.atomic
def apply_retention(*, now=None) -> Erased:
    """Blank free text and personal data older than the retention settings (0 = keep)."""
    now = now or timezone.now()
    text_days = settings.RETENTION_FREE_TEXT_DAYS
    personal_days = settings.RETENTION_PERSONAL_DATA_DAYS
    comments = responses = invitations = 0
    if text_days > 0:
        old = Answer.objects.filter(response__submitted_at__lt=now - timedelta(days=text_days))
        comments = old.exclude(text="").update(text="")
    if personal_days > 0:
        cutoff = now - timedelta(days=personal_days)
        old_responses = Response.objects.filter(submitted_at__lt=cutoff).filter(
            ~Q(respondent_key="") | ~Q(external_id="") | Q(invitation__isnull=False)
        )
        responses = old_responses.update(respondent_key="", external_id="", invitation=None)
        # Invitations hold the contact: older ones go, answered or not (their link ends).
        old_invitations = Invitation.objects.filter(created_at__lt=cutoff)
        invitations = old_invitations.delete()[1].get(Invitation._meta.label, 0)
    erased = Erased(responses=responses, comments=comments, invitations=invitations)
    if erased:
        record_event(None, "retention.applied", "personal data", asdict(erased))
    return erased
