"""Read paths of the shared plumbing."""

import contextlib

from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils import timezone

from .models import Branding, IdempotencyRecord

BRANDING_CACHE_KEY = "common:branding"


def live_idempotency_record(*, user: User | None, key: str, path: str) -> IdempotencyRecord | None:
    """The unexpired stored result for `key` of `user` (anonymous callers: per path)."""
    records = IdempotencyRecord.objects.filter(user=user, key=key, expires_at__gt=timezone.now())
    if user is None:
        records = records.filter(path=path)
    return records.first()


def current_branding() -> Branding:
    """The company's branding without the logo's bytes (an unsaved default when none is
    set). Read on every page, so kept in the shared cache until the admin saves it."""
    try:
        cached = cache.get(BRANDING_CACHE_KEY)
    except Exception:  # a failing cache costs one query, never the page
        cached = None
    if isinstance(cached, Branding):
        return cached
    branding = Branding.objects.defer("logo").filter(pk=Branding.SINGLETON_ID).first()
    branding = branding or Branding()
    with contextlib.suppress(Exception):  # next page reads the row again
        cache.set(BRANDING_CACHE_KEY, branding, timeout=3600)
    return branding


def branding_logo() -> tuple[bytes, str] | None:
    """The uploaded logo's bytes and content type, or None."""
    row = (
        Branding.objects.filter(pk=Branding.SINGLETON_ID)
        .exclude(logo_type="")
        .values_list("logo", "logo_type")
        .first()
    )
    return (bytes(row[0]), row[1]) if row else None


def email_branding(base_url: str) -> dict[str, str | bool]:
    """The branding for an e-mail: company name, colour and an absolute logo address
    (`base_url` is the site's public address; e-mails cannot use relative links)."""
    branding = current_branding()
    logo = branding.logo_src
    if logo.startswith("/"):
        logo = base_url.rstrip("/") + logo
    return {
        "company_name": branding.company_name,
        "colour": branding.colour,
        "logo_url": logo,
        "show_powered_by": branding.show_powered_by,
    }
