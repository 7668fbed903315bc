"""Saving the company's branding (name, colour, logo) and dropping its cached copy."""

import contextlib

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import Branding
from ..selectors import BRANDING_CACHE_KEY

MAX_LOGO_BYTES = 512 * 1024
# Raster images only: an SVG served from this site could carry script.
LOGO_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}


def logo_type_of(data: bytes) -> str:
    """The image type of an uploaded logo by its first bytes; ValidationError otherwise."""
    if len(data) > MAX_LOGO_BYTES:
        raise ValidationError("The logo is larger than 512 KB; upload a smaller image.")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    for signature, content_type in LOGO_SIGNATURES.items():
        if data.startswith(signature):
            return content_type
    raise ValidationError("Upload the logo as PNG, JPEG, GIF or WebP.")


def _forget_cached() -> None:
    with contextlib.suppress(Exception):  # a failing cache expires the copy within the hour
        cache.delete(BRANDING_CACHE_KEY)


@transaction.atomic
def save_branding(
    *, branding: Branding, logo: bytes | None = None, remove_logo: bool = False
) -> Branding:
    """Save the branding row; `logo` replaces the uploaded logo, `remove_logo` drops it.
    Pages pick the change up at once (the cached copy is dropped)."""
    if logo is not None:
        branding.logo_type = logo_type_of(logo)
        branding.logo = logo
    elif remove_logo:
        branding.logo, branding.logo_type = b"", ""
    elif branding.pk:
        # The cached copy has the logo's bytes deferred; keep the stored ones.
        stored = Branding.objects.filter(pk=branding.pk).values_list("logo", flat=True).first()
        branding.logo = stored or b""
    branding.full_clean()
    branding.save()
    # Now for this process, and again after commit in case a page cached the old row between.
    _forget_cached()
    transaction.on_commit(_forget_cached)
    return branding
