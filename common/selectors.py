"""Read paths of the shared plumbing."""

from django.contrib.auth.models import User
from django.utils import timezone

from .models import IdempotencyRecord


def live_idempotency_record(*, user: User | None, key: str, path: str) -> IdempotencyRecord | None:
    """The unexpired stored result for `key` of `user` (anonymous callers: per path)."""
    records = IdempotencyRecord.objects.filter(user=user, key=key, expires_at__gt=timezone.now())
    if user is None:
        records = records.filter(path=path)
    return records.first()
