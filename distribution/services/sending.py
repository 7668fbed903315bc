"""E-mail invitations and reminders: issuing, queueing in batches, sending, unsubscribe and
bounces. Invitations themselves are `surveys.services.issue_invitations`, so their rules
(closed surveys, units, confidential surveys issued by administrators only) hold here too."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from smtplib import SMTPException, SMTPRecipientsRefused

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from common.selectors import email_branding
from common.services import record_event
from surveys.models import Invitation, OrgUnit, Survey
from surveys.services import MAX_INVITATIONS, issue_invitations

from ..models import Contact, ReminderSchedule, SendLog
from ..tasks import send_emails_task

UNSUBSCRIBE_SALT = "distribution.unsubscribe"


def unsubscribe_token(contact: Contact) -> str:
    """A signed, unguessable token naming one contact (no expiry: old e-mails keep working)."""
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(str(contact.pk))


def unsubscribe(*, token: str) -> Contact | None:
    """Mark the contact of a valid token unsubscribed (for every later survey); None for a
    forged or damaged token. Idempotent."""
    try:
        contact_id = int(signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None
    with transaction.atomic():
        contact = Contact.objects.select_for_update().filter(pk=contact_id).first()
        if contact is not None and not contact.unsubscribed:
            contact.unsubscribed = True
            contact.save(update_fields=["unsubscribed", "updated_at"])
            record_event(None, "contact.unsubscribed", contact, {})
    return contact


def record_bounces(*, emails: Iterable[str], recorded_by: User | None = None) -> int:
    """Mark contacts whose mail came back as bounced: no later e-mail is tried. Returns how
    many contacts changed."""
    addresses = {email.strip().lower() for email in emails if email.strip()}
    with transaction.atomic():
        changed = Contact.objects.filter(email__in=addresses, bounced=False).update(
            bounced=True, updated_at=timezone.now()
        )
        record_event(recorded_by, "contacts.bounced", "contacts", {"count": changed})
    return changed


def invite_contacts(
    *,
    survey: Survey,
    contacts: QuerySet[Contact],
    base_url: str,
    invited_by: User | None = None,
) -> int:
    """Issue one personal invitation per reachable contact of the survey's audience who has
    none for this survey yet, and queue their e-mails in batches after commit.

    Unsubscribed and bounced contacts, and contacts outside the survey's root unit, are left
    out. Employee surveys: only administrators (or the platform) invite, and the send log
    keeps no time. Links start with `base_url`. Returns how many were invited.
    """
    chosen = list(_invitable(survey, contacts).select_related("unit"))
    by_unit: dict[OrgUnit, list[Contact]] = defaultdict(list)
    for contact in chosen:
        by_unit[contact.unit].append(contact)
    with transaction.atomic():
        sends = []
        for unit, members in by_unit.items():
            for start in range(0, len(members), MAX_INVITATIONS):
                part = members[start : start + MAX_INVITATIONS]
                invitations = issue_invitations(
                    survey=survey,
                    unit=unit,
                    contacts=[_invitation_row(survey, contact) for contact in part],
                    created_by=invited_by,
                )
                _set_languages(invitations, part)
                sends += [
                    SendLog(
                        invitation=invitation,
                        contact=contact,
                        kind=SendLog.Kind.INVITATION,
                        base_url=base_url,
                    )
                    for invitation, contact in zip(invitations, part, strict=True)
                ]
        created = SendLog.objects.bulk_create(sends, batch_size=1000)
        queue_sends([send.pk for send in created])
    return len(chosen)


def _invitable(survey: Survey, contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    invited = SendLog.objects.filter(invitation__survey=survey).values("contact_id")
    chosen = contacts.filter(audience=survey.audience, unsubscribed=False, bounced=False)
    if survey.root_unit is not None:
        chosen = chosen.filter(unit__path__startswith=survey.root_unit.path)
    return chosen.exclude(pk__in=invited).order_by("unit_id", "pk")


def _invitation_row(survey: Survey, contact: Contact) -> dict[str, object]:
    # Employee invitations carry no customer id: it would tie an answer to a person.
    customer_id = "" if survey.is_employee else contact.customer_id
    return {"contact": contact.email, "customer_id": customer_id, "segment": contact.segment}


def _set_languages(invitations: list[Invitation], contacts: list[Contact]) -> None:
    by_language: dict[str, list[int]] = defaultdict(list)
    for invitation, contact in zip(invitations, contacts, strict=True):
        if contact.language:
            by_language[contact.language].append(invitation.pk)
    for language, ids in by_language.items():
        Invitation.objects.filter(pk__in=ids).update(language=language)


def queue_sends(send_ids: list[int]) -> None:
    """Queue e-mail tasks of EMAIL_BATCH_SIZE sends each, after the caller's commit."""
    size = max(settings.EMAIL_BATCH_SIZE, 1)
    for start in range(0, len(send_ids), size):
        batch = send_ids[start : start + size]
        transaction.on_commit(_queue(batch), robust=True)


def _queue(batch: list[int]) -> Callable[[], object]:
    return lambda: send_emails_task.delay(batch)


def send_emails(*, send_ids: list[int]) -> int:
    """Send the queued e-mails among `send_ids` over one connection; returns how many went.

    Each send is claimed first (queued → sending), so a duplicate task sends nothing twice.
    A contact that unsubscribed or bounced meanwhile, or an invitation already answered, is
    skipped. A refused recipient marks the contact bounced; other errors mark the send
    failed with the error text.
    """
    sent = 0
    with get_connection() as connection:
        for send_id in send_ids:
            claimed = SendLog.objects.filter(pk=send_id, status=SendLog.Status.QUEUED).update(
                status=SendLog.Status.SENDING
            )
            if claimed:
                sent += _send_one(send_id, connection)
    return sent


def _send_one(send_id: int, connection) -> int:
    send = SendLog.objects.select_related("invitation__survey", "contact").get(pk=send_id)
    survey = send.invitation.survey
    if not send.contact.reachable or send.invitation.used:
        _finish(send, SendLog.Status.SKIPPED)
        return 0
    try:
        _message(send, connection).send()
    except SMTPRecipientsRefused as error:
        Contact.objects.filter(pk=send.contact_id).update(bounced=True)
        _finish(send, SendLog.Status.BOUNCED, str(error))
        return 0
    except (SMTPException, OSError) as error:
        _finish(send, SendLog.Status.FAILED, f"{type(error).__name__}: {error}")
        return 0
    # Employee and anonymous surveys: no send time per person.
    sent_at = None if survey.is_confidential else timezone.now()
    _finish(send, SendLog.Status.SENT, sent_at=sent_at)
    return 1


def _finish(send: SendLog, status: str, error: str = "", sent_at: datetime | None = None) -> None:
    send.status, send.error, send.sent_at = status, error[:1000], sent_at
    send.save(update_fields=["status", "error", "sent_at"])


def _message(send: SendLog, connection) -> EmailMultiAlternatives:
    base = send.base_url.rstrip("/")
    survey = send.invitation.survey
    unsubscribe_url = base + reverse(
        "distribution:unsubscribe", kwargs={"token": unsubscribe_token(send.contact)}
    )
    context = {
        "survey": survey,
        "link": base + send.invitation.get_absolute_url(),
        "unsubscribe_url": unsubscribe_url,
        "reminder": send.kind == SendLog.Kind.REMINDER,
        "brand": email_branding(base),
    }
    with translation.override(send.invitation.language or settings.LANGUAGE_CODE):
        subject = render_to_string("distribution/email/subject.txt", context).strip()
        text = render_to_string("distribution/email/invitation.txt", context)
        html = render_to_string("distribution/email/invitation.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[send.contact.email],
        connection=connection,
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def send_due_reminders(*, schedule: ReminderSchedule, now: datetime | None = None) -> int:
    """Queue the reminders now due under `schedule`; returns how many.

    The k-th reminder of an invitation is due k × `after_days` days after it was issued, up to
    `max_reminders`; only for invitations e-mailed successfully, not yet answered, not
    expired, whose contact has not unsubscribed or bounced. The reminder count is raised in
    the same transaction as the send is logged, so a second run queues nothing twice.
    """
    survey = schedule.survey
    if not schedule.active or survey.status != Survey.Status.OPEN:
        return 0
    now = now or timezone.now()
    queued: list[int] = []
    with transaction.atomic():
        for sent_before in range(schedule.max_reminders):
            due = _due(survey, now, sent_before, schedule.after_days)
            rows = list(due.values_list("pk", "sends__contact_id", "sends__base_url"))
            logs = SendLog.objects.bulk_create(
                SendLog(
                    invitation_id=invitation_id,
                    contact_id=contact_id,
                    kind=SendLog.Kind.REMINDER,
                    number=sent_before + 1,
                    base_url=base_url,
                )
                for invitation_id, contact_id, base_url in rows
            )
            Invitation.objects.filter(
                pk__in=[row[0] for row in rows], reminders_sent=sent_before
            ).update(reminders_sent=F("reminders_sent") + 1)
            queued += [log.pk for log in logs]
        queue_sends(queued)
    return len(queued)


def _due(survey: Survey, now: datetime, sent_before: int, after_days: int) -> QuerySet:
    issued_by = now - timedelta(days=after_days * (sent_before + 1))
    return (
        Invitation.objects.filter(
            survey=survey,
            used=False,
            reminders_sent=sent_before,
            created_at__lte=issued_by,
            sends__kind=SendLog.Kind.INVITATION,
            sends__status=SendLog.Status.SENT,
            sends__contact__unsubscribed=False,
            sends__contact__bounced=False,
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("pk")
    )
