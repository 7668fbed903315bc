"""Survey authoring, distribution and collection: org units, surveys, invitations, responses,
and the metric store scoring writes (metrics and their values per unit and period)."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from common.models import TimeStamped
from common.net import url_problem

from . import periods

UNIT_PATH_SEGMENT = 9  # "00000042/" — fixed width so an ancestor is a path prefix of known length


class OrgUnit(TimeStamped):
    """A node of the organisation tree: company → region → store/team."""

    class Level(models.TextChoices):
        COMPANY = "company", "Company"
        REGION = "region", "Region"
        STORE = "store", "Store"
        TEAM = "team", "Team"

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.STORE)
    # Materialised path of zero-padded ids, root first: subtree = path prefix, ancestor at
    # depth d = first d*UNIT_PATH_SEGMENT characters. Kept by save().
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    depth = models.PositiveSmallIntegerField(editable=False, default=1)
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="managed_units"
    )

    class Meta:
        ordering = ["path"]
        indexes = [models.Index(fields=["level", "path"], name="orgunit_level_path")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        new_path = (self.parent.path if self.parent else "") + f"{self.pk:08d}/"
        if new_path != self.path:
            old_path, self.path = self.path, new_path
            self.depth = new_path.count("/")
            OrgUnit.objects.filter(pk=self.pk).update(path=self.path, depth=self.depth)
            if old_path:
                self._move_descendants(old_path)

    def clean(self) -> None:
        if self.parent and self.pk and self.parent.path.startswith(self.path or "\0"):
            raise ValidationError({"parent": "A unit cannot be moved below itself."})

    def _move_descendants(self, old_path: str) -> None:
        """Re-root the subtree in one UPDATE: new prefix + the rest of each old path."""
        shift = self.path.count("/") - old_path.count("/")
        OrgUnit.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
            path=Concat(Value(self.path), Substr("path", len(old_path) + 1)),
            depth=F("depth") + shift,
        )

    def subtree(self) -> models.QuerySet["OrgUnit"]:
        """This unit and every unit below it."""
        return OrgUnit.objects.filter(path__startswith=self.path)

    def ancestors(self) -> models.QuerySet["OrgUnit"]:
        """Units above this one, root first."""
        prefixes = [
            self.path[:end] for end in range(UNIT_PATH_SEGMENT, len(self.path), UNIT_PATH_SEGMENT)
        ]
        return OrgUnit.objects.filter(path__in=prefixes).order_by("depth")


class Survey(TimeStamped):
    class Audience(models.TextChoices):
        CUSTOMER = "customer", "Customers"
        EMPLOYEE = "employee", "Employees"

    class Kind(models.TextChoices):
        RELATIONSHIP = "relationship", "Relationship"
        TRANSACTIONAL = "transactional", "Transactional"
        PULSE = "pulse", "Pulse"
        ASSESSMENT = "assessment", "Self-assessment"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    class Granularity(models.TextChoices):
        MONTH = periods.MONTH, "Month"
        QUARTER = periods.QUARTER, "Quarter"

    class ReleaseMode(models.TextChoices):
        WAVE = "wave", "When the wave closes"
        BATCH = "batch", "In batches of at least the threshold"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    intro = models.TextField(blank=True, help_text="Shown above the questions.")
    thank_you = models.TextField(
        blank=True, help_text="Shown after answering; empty shows a standard thank-you."
    )
    audience = models.CharField(max_length=10, choices=Audience.choices)
    kind = models.CharField(max_length=15, choices=Kind.choices)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    anonymous = models.BooleanField(
        default=False, help_text="No respondent key or invitation link is stored with answers."
    )
    anonymity_threshold = models.PositiveSmallIntegerField(
        default=0,
        help_text="Groups with fewer respondents are suppressed everywhere. "
        "Employee surveys: at least 3, default 5.",
    )
    period_granularity = models.CharField(
        max_length=10, choices=Granularity.choices, default=Granularity.MONTH
    )
    allow_public_link = models.BooleanField(
        default=False,
        help_text="Employee surveys: also accept answers through the public link. Off by "
        "default: anyone with the link could add answers to a small team and then read its "
        "real answers by subtraction. Customer surveys always accept the public link.",
    )
    one_answer_per_browser = models.BooleanField(
        default=True,
        help_text="Public link: a browser that has answered sees “already answered” for "
        "the rest of the round (a signed cookie). Switch off for a shared kiosk; employee "
        "surveys always keep it.",
    )
    public_answers_per_address = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Public link: at most this many answers per network address and round; "
        "empty uses PUBLIC_ANSWERS_PER_ADDRESS, 0 means no limit (customer surveys). Employee "
        "surveys never exceed EMPLOYEE_PUBLIC_ANSWERS_PER_ADDRESS.",
    )
    release_mode = models.CharField(
        max_length=10,
        choices=ReleaseMode.choices,
        default=ReleaseMode.WAVE,
        help_text="Employee and anonymous surveys: results become readable when the period "
        "(wave) has ended or the survey is closed; in batches, also during the wave, each "
        "time a team has at least the threshold of new answers.",
    )
    reporting_attributes = models.JSONField(
        default=list,
        blank=True,
        help_text="Employee and anonymous surveys: the only segment attributes kept with an "
        'answer, e.g. ["role"]. Everything else from the invitation is dropped.',
    )
    languages = models.JSONField(
        default=list,
        blank=True,
        help_text='Languages respondents may choose, the first is the default, e.g. ["en", "de"]; '
        "empty: English only.",
    )
    root_unit = models.ForeignKey(
        OrgUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Units below this one may answer; empty means any unit.",
    )
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(audience="employee") | Q(anonymity_threshold__gte=3),
                name="employee_survey_threshold_at_least_3",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        if self.audience == self.Audience.EMPLOYEE and self.anonymity_threshold < 3:
            self.anonymity_threshold = settings.DEFAULT_EMPLOYEE_ANONYMITY_THRESHOLD
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("surveys:public", kwargs={"slug": self.slug})

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_employee(self) -> bool:
        return self.audience == self.Audience.EMPLOYEE

    @property
    def is_confidential(self) -> bool:
        """Employee or anonymous: results are released, never live (`services.releases`)."""
        return self.is_employee or self.anonymous

    @property
    def accepts_public_link(self) -> bool:
        """Employee surveys take answers by personal invitation only, unless switched on."""
        return not self.is_employee or self.allow_public_link

    def period_for(self, moment) -> str:
        return periods.label_for(timezone.localtime(moment), self.period_granularity)


class Question(models.Model):
    class Type(models.TextChoices):
        NPS = "nps", "Net Promoter (0–10)"
        CSAT = "csat", "Satisfaction (1–5)"
        CES = "ces", "Customer effort (1–7)"
        LIKERT = "likert", "Agreement (1–5)"
        RATING = "rating", "Rating (min–max)"
        SINGLE = "single", "Single choice"
        MULTI = "multi", "Multiple choice"
        NUMBER = "number", "Number"
        TEXT = "text", "Open text"

    class Operator(models.TextChoices):
        LTE = "lte", "is at most"
        GTE = "gte", "is at least"
        EQ = "eq", "is"
        NE = "ne", "is not"
        IN = "in", "is one of (comma-separated)"
        ANSWERED = "answered", "is answered"

    # Fixed scales per type; rating and number use the question's own bounds.
    SCALES: dict[str, tuple[int, int]] = {
        Type.NPS: (0, 10),
        Type.CSAT: (1, 5),
        Type.CES: (1, 7),
        Type.LIKERT: (1, 5),
    }
    # Translated when shown (the respondent's language); a question's own labels win.
    DEFAULT_LABELS = {
        Type.NPS: (gettext_lazy("Not at all likely"), gettext_lazy("Extremely likely")),
        Type.CSAT: (gettext_lazy("Very dissatisfied"), gettext_lazy("Very satisfied")),
        Type.CES: (gettext_lazy("Strongly disagree"), gettext_lazy("Strongly agree")),
        Type.LIKERT: (gettext_lazy("Strongly disagree"), gettext_lazy("Strongly agree")),
    }

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    code = models.SlugField(max_length=40, help_text="Short identifier, unique in the survey.")
    order = models.PositiveIntegerField(default=0)
    type = models.CharField(max_length=10, choices=Type.choices)
    text = models.CharField(max_length=500)
    help_text = models.CharField(max_length=500, blank=True)
    required = models.BooleanField(default=True)
    min_value = models.FloatField(null=True, blank=True, help_text="Rating/number lower bound.")
    max_value = models.FloatField(null=True, blank=True, help_text="Rating/number upper bound.")
    low_label = models.CharField(max_length=80, blank=True)
    high_label = models.CharField(max_length=80, blank=True)
    journey_stage = models.CharField(max_length=60, blank=True)
    metric_key = models.CharField(
        max_length=80, blank=True, db_index=True, help_text="e.g. customer.nps, employee.enps"
    )
    grid = models.CharField(
        max_length=40, blank=True, help_text="Questions sharing a grid name are shown together."
    )
    # Question logic (`surveys.logic`): shown only when an earlier answer meets this.
    show_if_question = models.SlugField(
        "show if question",
        max_length=40,
        blank=True,
        help_text="Code of an earlier question; empty: always shown.",
    )
    show_if_operator = models.CharField(
        "show if answer", max_length=10, choices=Operator.choices, blank=True
    )
    show_if_value = models.CharField(
        "show if value",
        max_length=200,
        blank=True,
        help_text="A number or option value; several separated by commas for “is one of”.",
    )

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "code"], name="question_code_unique_in_survey"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.text[:60]}"

    def clean(self) -> None:
        if self.type == self.Type.RATING and (self.min_value is None or self.max_value is None):
            raise ValidationError("A rating question needs a minimum and a maximum.")
        low, high = self.min_value, self.max_value
        if low is not None and high is not None and low >= high:
            raise ValidationError({"max_value": "Maximum must be greater than minimum."})

    @property
    def is_choice(self) -> bool:
        return self.type in (self.Type.SINGLE, self.Type.MULTI)

    def bounds(self) -> tuple[float | None, float | None]:
        """Allowed numeric range (inclusive) for number-valued types."""
        if self.type in self.SCALES:
            return self.SCALES[self.type]
        return self.min_value, self.max_value

    def endpoint_labels(self) -> tuple[str, str]:
        low, high = self.DEFAULT_LABELS.get(Question.Type(self.type)) or ("", "")
        return self.low_label or str(low), self.high_label or str(high)


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    order = models.PositiveIntegerField(default=0)
    value = models.SlugField(max_length=40)
    label = models.CharField(max_length=200)
    score = models.FloatField(
        null=True, blank=True, help_text="Numeric value for scoring (e.g. yes = 1, no = 0)."
    )

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["question", "value"], name="choice_value_unique"),
        ]

    def __str__(self) -> str:
        return self.label


def new_token() -> str:
    """256 bits from the OS CSPRNG, URL-safe; never starting with "-", which spreadsheet
    exports would have to neutralise (and so change) as a formula prefix."""
    while True:
        token = secrets.token_urlsafe(32)
        if not token.startswith("-"):
            return token


class Invitation(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="invitations")
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    contact = models.CharField(max_length=254, blank=True, help_text="E-mail or phone.")
    customer_id = models.CharField(max_length=100, blank=True)
    segment = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    used = models.BooleanField(default=False)
    # When it was used: customer surveys only. Employee and anonymous surveys record that an
    # invitation was used, never when, so the moment cannot be matched to a response.
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["survey", "unit"], name="invitation_survey_unit")]

    def __str__(self) -> str:
        return f"Invitation {self.pk} to {self.survey}"

    def get_absolute_url(self) -> str:
        return reverse("surveys:invitation", kwargs={"token": self.token})

    @property
    def is_used(self) -> bool:
        return self.used

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @staticmethod
    def default_expiry(days: int = 30):
        return timezone.now() + timedelta(days=days)


class Response(models.Model):
    class Channel(models.TextChoices):
        WEB = "web", "Web"
        API = "api", "API"
        IMPORT = "import", "Import"

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="responses")
    period = models.CharField(max_length=7)
    # Null for anonymous surveys: the invitation would identify the respondent.
    invitation = models.OneToOneField(
        Invitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="response"
    )
    respondent_key = models.CharField(max_length=100, blank=True, db_index=True)
    external_id = models.CharField(
        max_length=100, blank=True, help_text="Caller's id, for idempotent imports."
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    segment = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=10, blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-submitted_at"]
        indexes = [
            models.Index(fields=["survey", "period", "unit"], name="response_survey_period_unit"),
            models.Index(fields=["unit", "period"], name="response_unit_period"),
            # The workspace's responses lists: newest first, a page at a time.
            models.Index(fields=["-submitted_at", "-id"], name="response_newest_first"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "external_id"],
                condition=~Q(external_id=""),
                name="response_external_id_unique_in_survey",
            ),
        ]

    def __str__(self) -> str:
        return f"Response {self.pk} to {self.survey_id} ({self.period})"


class ResultRelease(models.Model):
    """One release of employee (or anonymous) results of a survey's period: the answers it
    published point to it (`Answer.release`). Written by `services.releases` only."""

    class Kind(models.TextChoices):
        WAVE = "wave", "Wave closed"
        BATCH = "batch", "Batch"

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="releases")
    period = models.CharField(max_length=7)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    released_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["released_at", "pk"]
        indexes = [models.Index(fields=["survey", "period"], name="release_survey_period")]

    def __str__(self) -> str:
        return f"{self.survey_id}/{self.period} ({self.kind})"


class Answer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    # Scales, numbers, and the score of a chosen single choice, so SQL can aggregate one column.
    number = models.FloatField(null=True, blank=True)
    text = models.TextField(blank=True)
    choice = models.ForeignKey(
        Choice, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    choices = models.ManyToManyField(Choice, blank=True, related_name="+")
    # Employee and anonymous answers count in stored scores only once released (null: still
    # waiting); answers to other surveys are scored live and never released.
    release = models.ForeignKey(
        ResultRelease, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["response", "question"], name="one_answer_per_question"
            ),
        ]
        indexes = [models.Index(fields=["question", "number"], name="answer_question_number")]

    def __str__(self) -> str:
        return f"Answer {self.pk} to {self.question_id}"


class DirtyScoreCell(models.Model):
    """A change of (survey, period) the stored scores have not taken in yet: one row per
    submitted response (or, with no response, a batch whose cell is recomputed from raw
    answers). Insert-only on the request path, so submissions never wait on each other; the
    worker claims, applies and deletes rows (`services.scores`), a periodic sweep picks up
    rows whose task never ran."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=7)
    response = models.ForeignKey(
        "Response", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["survey", "period"], name="dirtycell_survey_period")]

    def __str__(self) -> str:
        return f"{self.survey_id}/{self.period}"


class WebhookSubscription(TimeStamped):
    """A subscriber URL that receives signed events for one survey."""

    class Event(models.TextChoices):
        RESPONSE_SUBMITTED = "response.submitted", "Response submitted"
        SCORE_CHANGED = "score.changed", "Score changed"

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=64, default=new_token, help_text="HMAC-SHA256 key.")
    events = models.JSONField(default=list, help_text="Event names; empty means all.")
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.url} ({self.survey})"

    def wants(self, event: str) -> bool:
        return self.active and (not self.events or event in self.events)

    def clean(self) -> None:
        """Refuse targets inside the platform's own network (common.net.url_problem)."""
        super().clean()
        problem = url_problem(self.url) if self.url else ""
        if problem:
            raise ValidationError({"url": problem})


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed after retries"

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription_id} ({self.status})"


class Metric(TimeStamped):
    class Source(models.TextChoices):
        SURVEY = "survey", "Survey question"
        OUTCOME = "outcome", "Imported outcome"

    class Aggregation(models.TextChoices):
        NPS = "nps", "Net score (promoters − detractors)"
        TOP_BOX = "top_box", "Top-box share"
        MEAN = "mean", "Mean"
        SUM = "sum", "Sum"
        RATE = "rate", "Rate (share of yes / 1)"

    class Direction(models.TextChoices):
        HIGHER_IS_BETTER = "up", "Higher is better"
        LOWER_IS_BETTER = "down", "Lower is better"

    class ChainStage(models.IntegerChoices):
        # Ordered along the service-profit chain; integers give the left-to-right order.
        OPERATIONS = 0, "Operations"
        EMPLOYEE_SATISFACTION = 1, "Employee satisfaction"
        EMPLOYEE_LOYALTY = 2, "Employee loyalty"
        EMPLOYEE_PRODUCTIVITY = 3, "Employee productivity"
        SERVICE_VALUE = 4, "Service value"
        CUSTOMER_SATISFACTION = 5, "Customer satisfaction"
        CUSTOMER_LOYALTY = 6, "Customer loyalty"
        REVENUE_GROWTH = 7, "Revenue growth"
        PROFITABILITY = 8, "Profitability"

    class Perspective(models.TextChoices):
        FINANCIAL = "financial", "Financial"
        CUSTOMER = "customer", "Customer"
        INTERNAL = "internal", "Internal process"
        LEARNING = "learning", "Learning & growth"

    class Level(models.TextChoices):
        STRATEGIC = "strategic", "Strategic (business results)"
        TACTICAL = "tactical", "Tactical (outcomes)"
        OPERATIONAL = "operational", "Operational (indicators)"

    key = models.CharField(max_length=80, unique=True, help_text="e.g. customer.nps")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.SURVEY)
    aggregation = models.CharField(max_length=10, choices=Aggregation.choices)
    direction = models.CharField(
        max_length=4, choices=Direction.choices, default=Direction.HIGHER_IS_BETTER
    )
    chain_stage = models.PositiveSmallIntegerField(
        choices=ChainStage.choices, default=ChainStage.OPERATIONS
    )
    perspective = models.CharField(
        max_length=10, choices=Perspective.choices, default=Perspective.CUSTOMER
    )
    level = models.CharField(max_length=12, choices=Level.choices, default=Level.TACTICAL)
    unit_label = models.CharField(max_length=20, blank=True, help_text='e.g. "pts", "%", "$"')
    top_box_min = models.FloatField(
        null=True, blank=True, help_text="Top-box threshold, e.g. 4 on a 1–5 scale."
    )

    class Meta:
        ordering = ["chain_stage", "key"]

    def __str__(self) -> str:
        return self.name

    @property
    def higher_is_better(self) -> bool:
        return self.direction == self.Direction.HIGHER_IS_BETTER


class MetricValue(models.Model):
    """One metric for one org unit and period, computed from raw answers or imported."""

    class Source(models.TextChoices):
        COMPUTED = "computed", "Computed from answers"
        IMPORTED = "imported", "Imported"

    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="values")
    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="metric_values")
    period = models.CharField(max_length=7)
    value = models.FloatField(null=True, blank=True)
    n = models.PositiveIntegerField(default=0)
    ci_low = models.FloatField(null=True, blank=True)
    ci_high = models.FloatField(null=True, blank=True)
    suppressed = models.BooleanField(default=False)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.COMPUTED)
    details = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "unit", "period"], name="one_value_per_metric_unit_period"
            ),
            models.CheckConstraint(
                condition=Q(suppressed=False) | Q(value__isnull=True),
                name="suppressed_value_is_empty",
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "period"], name="metricvalue_unit_period"),
            models.Index(fields=["metric", "period"], name="metricvalue_metric_period"),
            # Keyset pages of one metric's values (`id > cursor ORDER BY id` within a metric).
            models.Index(fields=["metric", "id"], name="metricvalue_metric_keyset"),
        ]

    def __str__(self) -> str:
        return f"{self.metric_id}/{self.unit_id}/{self.period}"


class CellStatistics(models.Model):
    """Additive sufficient statistics of one survey metric's answers given at one unit in
    one period (the unit's own answers; ancestors are summed when scored): `sums` holds the
    aggregation's columns (`aggregation.STATISTICS`: answers and promoters and detractors,
    top-box count, or sum and sum of squares; then a multi-item metric's per-respondent
    sums), beside respondents; `grid_counts` holds, for a metric with rows in a grid, the
    whole grid's straight-lining statistics by label (respondents who answered every item, the
    straight-liners among them, their answers per item × value: `aggregation.cells.Grid`).
    Every stored score of a customer metric is a function of these, so a batch of new
    responses is added here and only its period is rescored (`aggregation.incremental`). Not
    kept for employee and anonymous metrics, whose scores come from released answers only.
    Written by the aggregation, never by requests."""

    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=7)
    sums = models.JSONField(default=list)
    respondents = models.FloatField(default=0)
    grid_counts = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "period", "unit"], name="one_statistics_row_per_cell"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric_id}/{self.unit_id}/{self.period}"
