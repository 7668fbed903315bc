"""The audit trail: decisions and sensitive actions each write one AuditEvent."""

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import models

from ..models import AuditEvent


def record_event(
    actor: User | AnonymousUser | None,
    action: str,
    subject: models.Model | str,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Store who did what to which subject, with JSON details.

    A model instance as `subject` is stored as its text plus its type and primary key in the
    details, so the event stays readable after the subject is renamed or deleted. Runs inside
    the caller's transaction: an action that rolls back leaves no event behind.
    """
    details = dict(details or {})
    if isinstance(subject, models.Model):
        details.setdefault("subject_type", subject._meta.label_lower)
        details.setdefault("subject_id", subject.pk)
    return AuditEvent.objects.create(
        actor=actor if isinstance(actor, User) and actor.pk else None,
        action=action[:60],
        subject=str(subject)[:200],
        details=details,
    )
