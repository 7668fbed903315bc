"""Contacts, the send log of invitations, reminder and wave schedules, follow-up cases."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from common.models import TimeStamped
from surveys.models import Invitation, OrgUnit, Response, Survey


class Contact(TimeStamped):
    """A person who may be invited by e-mail: a customer or an employee of a unit."""

    class Audience(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        EMPLOYEE = "employee", "Employee"

    email = models.EmailField(max_length=254, unique=True)
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="contacts")
    audience = models.CharField(
        max_length=10, choices=Audience.choices, default=Audience.CUSTOMER, db_index=True
    )
    customer_id = models.CharField(max_length=100, blank=True, db_index=True)
    language = models.CharField(max_length=10, blank=True)
    segment = models.JSONField(default=dict, blank=True)
    # Honoured for every later survey; set by the signed link in each e-mail.
    unsubscribed = models.BooleanField(default=False)
    # Set when the mail server refused the address: no further e-mail is tried.
    bounced = models.BooleanField(default=False)

    class Meta:
        ordering = ["email"]
        indexes = [models.Index(fields=["unit", "audience"], name="contact_unit_audience")]

    def __str__(self) -> str:
        return self.email

    @property
    def reachable(self) -> bool:
        return not (self.unsubscribed or self.bounced)


class SendLog(models.Model):
    """One e-mail about one invitation (the invitation itself or a reminder) and its fate.

    For employee and anonymous surveys no time is kept (`sent_at` stays empty): a send time
    per person could be matched with the day an answer arrived."""

    class Kind(models.TextChoices):
        INVITATION = "invitation", "Invitation"
        REMINDER = "reminder", "Reminder"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        BOUNCED = "bounced", "Bounced"
        SKIPPED = "skipped", "Skipped (unsubscribed or bounced)"

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="sends")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="sends")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    number = models.PositiveSmallIntegerField(
        default=0, help_text="Reminder number; 0: invitation."
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    error = models.TextField(blank=True)
    # The address links were built with (kept so a retry without a request builds the same).
    base_url = models.CharField(max_length=200)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["invitation", "kind", "number"], name="one_send_per_invitation_message"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.number} for invitation {self.invitation_id}: {self.status}"


class ReminderSchedule(TimeStamped):
    """Reminders for one survey: the k-th one goes k × `after_days` days after the
    invitation, at most `max_reminders`, never to those who answered or unsubscribed.
    Checked by a beat task (`periodic_task`, editable in the admin's Periodic tasks)."""

    survey = models.OneToOneField(Survey, on_delete=models.CASCADE, related_name="reminders")
    after_days = models.PositiveSmallIntegerField(default=3)
    max_reminders = models.PositiveSmallIntegerField(default=1)
    active = models.BooleanField(default=True)
    periodic_task = models.OneToOneField(
        PeriodicTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(after_days__gte=1), name="reminder_after_a_day"),
            models.CheckConstraint(condition=Q(max_reminders__lte=10), name="reminder_at_most_ten"),
        ]

    def __str__(self) -> str:
        return f"Reminders for {self.survey}"


class WaveSchedule(TimeStamped):
    """A recurring pulse: every `every_weeks` weeks, or monthly, a new wave (a copy of
    `template` survey) opens, every employee contact of `units` is invited, and the previous
    wave closes — which releases its employee results."""

    class Frequency(models.TextChoices):
        WEEKS = "weeks", "Every N weeks"
        MONTHLY = "monthly", "Monthly (on the 1st)"

    name = models.CharField(max_length=200)
    template = models.ForeignKey(
        Survey,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="An employee survey whose questions each wave copies.",
    )
    units = models.ManyToManyField(OrgUnit, related_name="+")
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    every_weeks = models.PositiveSmallIntegerField(default=2)
    active = models.BooleanField(default=True)
    base_url = models.CharField(
        max_length=200,
        blank=True,
        help_text="Start of personal links when PUBLIC_BASE_URL is unset (set on saving).",
    )
    periodic_task = models.OneToOneField(
        PeriodicTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(every_weeks__gte=1) & Q(every_weeks__lte=52),
                name="wave_every_1_to_52_weeks",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Wave(models.Model):
    """One wave of a schedule: its own survey, opened at `number`."""

    schedule = models.ForeignKey(WaveSchedule, on_delete=models.CASCADE, related_name="waves")
    number = models.PositiveIntegerField()
    survey = models.OneToOneField(Survey, on_delete=models.PROTECT, related_name="wave")
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["schedule", "number"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "number"], name="one_wave_number"),
        ]

    def __str__(self) -> str:
        return f"{self.schedule} — wave {self.number}"


class FollowUpCase(TimeStamped):
    """A detractor or unhappy customer to call back: opened from a customer response, worked
    by the unit's managers, closed with an outcome. Never for employee surveys."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        CLOSED = "closed", "Closed"

    class Outcome(models.TextChoices):
        RESOLVED = "resolved", "Resolved"
        NOT_REACHED = "not_reached", "Could not reach"
        DECLINED = "declined", "Customer declined"
        NO_ACTION = "no_action", "No action needed"

    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="case")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="cases")
    customer_id = models.CharField(max_length=100, blank=True, db_index=True)
    contact = models.CharField(max_length=254, blank=True)
    reason = models.CharField(max_length=200, help_text='e.g. "NPS 3"')
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_up_cases",
    )
    notes = models.TextField(blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    due_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [models.Index(fields=["unit", "status"], name="case_unit_status")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="closed") | (Q(closed_at__isnull=False) & ~Q(outcome="")),
                name="closed_case_has_time_and_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk}: {self.reason} ({self.unit.code})"

    def is_overdue(self, now=None) -> bool:
        if self.status == self.Status.CLOSED:
            return False
        return self.due_at < (now or timezone.now())

    @property
    def closed_within_sla(self) -> bool | None:
        if self.closed_at is None:
            return None
        return self.closed_at <= self.due_at

    @staticmethod
    def due_from(opened, hours: int | None = None):
        return opened + timedelta(hours=hours or settings.FOLLOW_UP_SLA_HOURS)
