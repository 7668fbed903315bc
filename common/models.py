"""Models every app may use: a timestamp base, the audit log and stored API results."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse

from .colour import MIN_CONTRAST_WITH_WHITE, contrast_ratio


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AuditEvent(models.Model):
    """Who did what, when: decisions and sensitive actions are auditable."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    action = models.CharField(max_length=60)
    subject = models.CharField(max_length=200)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.subject}"


class IdempotencyRecord(models.Model):
    """The first result of a POST sent with an Idempotency-Key, replayed on retries."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE
    )
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


def _check_brand_colour(value: str) -> None:
    try:
        ratio = contrast_ratio(value, "#ffffff")
    except ValueError as error:
        raise ValidationError(str(error)) from None
    if ratio < MIN_CONTRAST_WITH_WHITE:
        raise ValidationError(
            f"White text on {value} has a contrast of {ratio:.1f}:1; buttons need at least "
            f"{MIN_CONTRAST_WITH_WHITE}:1. Choose a darker shade."
        )


class Branding(TimeStamped):
    """The company's face on respondent pages and e-mails: one row (pk 1), set in the admin.

    The colour reaches pages as CSS custom properties in a served stylesheet (/brand.css) and
    the logo as an image served by this site, so the Content-Security-Policy stays 'self'; a
    logo given by https address is allowed by that origin on pages that show it."""

    SINGLETON_ID = 1
    DEFAULT_COLOUR = "#1f5fbf"

    company_name = models.CharField(
        max_length=120, blank=True, help_text="Shown on survey pages and in e-mails."
    )
    colour = models.CharField(
        max_length=7,
        default=DEFAULT_COLOUR,
        validators=[_check_brand_colour],
        help_text="Buttons and links, e.g. #1f5fbf; dark enough for white text (4.5:1).",
    )
    logo = models.BinaryField(blank=True, default=b"", editable=False)
    logo_type = models.CharField(max_length=20, blank=True, editable=False)
    logo_url = models.URLField(
        blank=True, help_text="An https address of the logo, used when no file is uploaded."
    )
    show_powered_by = models.BooleanField(
        default=True, help_text="A small “Powered by cxsurvey” line at the foot of pages."
    )

    class Meta:
        verbose_name = "branding"
        verbose_name_plural = "branding"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="one_branding_row")]

    def __str__(self) -> str:
        return self.company_name or "Branding"

    def save(self, *args, **kwargs) -> None:
        self.pk = self.SINGLETON_ID
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        if self.logo_url and not self.logo_url.startswith("https://"):
            raise ValidationError({"logo_url": "Give an https:// address."})

    @property
    def has_logo(self) -> bool:
        return bool(self.logo_type) or bool(self.logo_url)

    @property
    def logo_src(self) -> str:
        """Where pages load the logo: this site's copy of the upload, else its address."""
        if self.logo_type:
            version = int(self.updated_at.timestamp()) if self.updated_at else 0
            return f"{reverse('brand-logo')}?v={version}"
        return self.logo_url

    @property
    def external_logo_origin(self) -> str:
        """The https origin pages must allow as an image source, or "" when none."""
        if self.logo_type or not self.logo_url.startswith("https://"):
            return ""
        return "https://" + self.logo_url.removeprefix("https://").split("/")[0]
