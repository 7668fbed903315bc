"""Stored results of idempotent API requests: written once, replayed, forgotten after a day."""

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..exceptions import DomainError
from ..models import IdempotencyRecord

LIFETIME = timedelta(hours=24)


class IdempotencyConflict(DomainError):
    """Another request with this Idempotency-Key is being processed; retry in a moment."""

    status_code = 409
    code = "idempotency_conflict"


def store_result(
    *,
    user: User | None,
    key: str,
    method: str,
    path: str,
    request_hash: str,
    status: int,
    body: Any,
) -> IdempotencyRecord:
    """Keep the first result of a request for LIFETIME, replacing an expired one of the key.

    Raises IdempotencyConflict when another request stored a result for the key first (only
    possible without PostgreSQL's advisory locks, i.e. on SQLite).
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.filter(user=user, key=key, expires_at__lte=now).delete()
            return IdempotencyRecord.objects.create(
                user=user,
                key=key,
                method=method,
                path=path[:500],
                request_hash=request_hash,
                response_status=status,
                response_body=body,
                expires_at=now + LIFETIME,
            )
    except IntegrityError:
        raise IdempotencyConflict() from None


def delete_expired_records() -> int:
    """Remove stored results past their lifetime; returns how many were removed."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
