"""The service-profit chain: outcome imports, linkage runs, the results chain, and what
leaders agree on (barometer, performance expectations, initiatives).

Metrics and their values per unit and period live in `surveys` (the metric store that
scoring writes and outcome imports fill); this app reads and links them.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from common.models import TimeStamped
from surveys.models import Metric, OrgUnit


class OutcomeImport(TimeStamped):
    """An uploaded outcome file and what became of it."""

    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        REFUSED = "refused", "Refused (bad lines, nothing written)"
        PARTIAL = "partial", "Good lines written, bad lines skipped"

    file_name = models.CharField(max_length=255)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    lines_total = models.PositiveIntegerField(default=0)
    lines_written = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"


class LinkageRun(TimeStamped):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    level = models.CharField(max_length=10, choices=OrgUnit.Level.choices, default="store")
    first_period = models.CharField(max_length=7)
    last_period = models.CharField(max_length=7)
    metric_keys = models.JSONField(default=list, help_text="Metrics in chain order.")
    max_lag = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    data_snapshot_at = models.DateTimeField(null=True, blank=True)
    n_units = models.PositiveIntegerField(default=0)
    excluded_cells = models.PositiveIntegerField(default=0, help_text="Suppressed cells left out.")
    warnings = models.JSONField(default=list, blank=True)
    key_drivers = models.JSONField(default=dict, blank=True)
    seed = models.PositiveIntegerField(default=20240601)
    requeues = models.PositiveSmallIntegerField(
        default=0, help_text="Times the sweep queued the run again after its worker was lost."
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Linkage run {self.pk} ({self.level}, {self.first_period}–{self.last_period})"


class LinkageResult(models.Model):
    run = models.ForeignKey(LinkageRun, on_delete=models.CASCADE, related_name="results")
    x_metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="+")
    y_metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="+")
    lag = models.SmallIntegerField(help_text="X at t against Y at t+lag; negative: Y leads.")
    n_pairs = models.PositiveIntegerField()
    n_units = models.PositiveIntegerField()
    r = models.FloatField(null=True)
    r_low = models.FloatField(null=True)
    r_high = models.FloatField(null=True)
    p = models.FloatField(null=True)
    spearman = models.FloatField(null=True)
    spearman_p = models.FloatField(null=True)
    within_r = models.FloatField(null=True)
    within_p = models.FloatField(null=True)
    between_r = models.FloatField(null=True)
    between_p = models.FloatField(null=True)
    slope_within = models.FloatField(null=True)
    slope_within_low = models.FloatField(null=True)
    slope_within_high = models.FloatField(null=True)
    q = models.FloatField(null=True)
    within_q = models.FloatField(null=True, help_text="BH q-value of within_p across the run.")
    warnings = models.JSONField(default=list, blank=True)
    snapshot_at = models.DateTimeField()

    class Meta:
        ordering = ["run", "x_metric__chain_stage", "y_metric__chain_stage", "lag"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "x_metric", "y_metric", "lag"], name="one_result_per_pair_and_lag"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.x_metric_id}→{self.y_metric_id} lag {self.lag}"

    @property
    def verdict_basis(self) -> tuple[str, float | None, float | None]:
        """What a chain verdict rests on: ("within", r, q) when the run could separate change
        within units (two or more periods each), else ("pooled", r, q)."""
        if self.within_r is not None and self.within_q is not None:
            return "within", self.within_r, self.within_q
        return "pooled", self.r, self.q


class ChainLink(TimeStamped):
    """ "If X improves, then Y improves" — a hypothesis with its latest evidence."""

    class Verdict(models.TextChoices):
        SUPPORTED = "supported", "Supported"
        NOT_SUPPORTED = "not_supported", "Not supported"
        INSUFFICIENT = "insufficient", "Insufficient data"
        UNTESTED = "untested", "Not yet tested"

    from_metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="links_out")
    to_metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="links_in")
    statement = models.CharField(max_length=300, blank=True)
    expected_lag = models.PositiveSmallIntegerField(default=1)
    latest_result = models.ForeignKey(
        LinkageResult, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verdict = models.CharField(max_length=15, choices=Verdict.choices, default=Verdict.UNTESTED)
    value_at_stake = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["from_metric__chain_stage", "to_metric__chain_stage"]
        constraints = [
            models.UniqueConstraint(fields=["from_metric", "to_metric"], name="one_link_per_pair"),
            models.CheckConstraint(
                condition=~Q(from_metric=models.F("to_metric")), name="link_joins_two_metrics"
            ),
        ]

    def __str__(self) -> str:
        return self.statement or f"If {self.from_metric} improves, then {self.to_metric} improves"


class BarometerProposal(TimeStamped):
    class Status(models.TextChoices):
        OPEN = "open", "Open for votes"
        AGREED = "agreed", "Agreed"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Rule(models.TextChoices):
        UNANIMOUS = "unanimous", "Unanimous"
        QUORUM = "quorum", "Quorum share of leaders"

    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="+")
    rationale = models.TextField()
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    rule = models.CharField(max_length=10, choices=Rule.choices, default=Rule.UNANIMOUS)
    quorum_share = models.FloatField(
        default=1.0, help_text="Share of leaders who must approve under the quorum rule."
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quorum_share__gt=0) & Q(quorum_share__lte=1), name="quorum_is_a_share"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} as barometer ({self.get_status_display()})"


class BarometerVote(models.Model):
    class Decision(models.TextChoices):
        APPROVE = "approve", "Approve"
        REJECT = "reject", "Reject"

    proposal = models.ForeignKey(BarometerProposal, on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, help_text="When the vote was last cast.")

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "voter"], name="one_vote_per_leader"),
        ]

    def __str__(self) -> str:
        return f"{self.voter} {self.decision} {self.proposal_id}"


class Barometer(models.Model):
    """The one agreed overall measure; history kept with dates."""

    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="+")
    proposal = models.OneToOneField(BarometerProposal, on_delete=models.PROTECT, related_name="+")
    in_force = models.BooleanField(default=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["in_force"], condition=Q(in_force=True), name="one_barometer_in_force"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} since {self.started_at:%Y-%m-%d}"


class PerformanceExpectation(TimeStamped):
    """A specific expectation: target group, extent, time frame, baseline."""

    class TargetKind(models.TextChoices):
        ABSOLUTE = "absolute", "Absolute change (metric units)"
        RELATIVE = "relative", "Relative change (%)"

    class Status(models.TextChoices):
        PENDING = "pending", "Not started"
        ON_TRACK = "on_track", "On track"
        AT_RISK = "at_risk", "At risk"
        ACHIEVED = "achieved", "Achieved"
        MISSED = "missed", "Missed"

    title = models.CharField(max_length=200)
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="expectations")
    unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", help_text="Target group: this subtree."
    )
    segment_filter = models.JSONField(
        default=dict, blank=True, help_text='Optional, e.g. {"product": "X"}'
    )
    baseline_period = models.CharField(max_length=7)
    baseline_value = models.FloatField(null=True, blank=True, editable=False)
    baseline_n = models.PositiveIntegerField(default=0, editable=False)
    target_kind = models.CharField(max_length=10, choices=TargetKind.choices)
    target_change = models.FloatField(help_text="e.g. −10 for a 10 % reduction, +5 for +5 pts.")
    target_value = models.FloatField(null=True, blank=True, editable=False)
    start_date = models.DateField()
    end_date = models.DateField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    latest_period = models.CharField(max_length=7, blank=True)
    latest_value = models.FloatField(null=True, blank=True)
    latest_n = models.PositiveIntegerField(default=0)
    latest_ci_low = models.FloatField(null=True, blank=True)
    latest_ci_high = models.FloatField(null=True, blank=True)
    status_checked_at = models.DateTimeField(null=True, blank=True)
    evidence = models.JSONField(
        default=dict, blank=True, editable=False, help_text="Tested changes the status rests on."
    )

    class Meta:
        ordering = ["end_date", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gt=models.F("start_date")),
                name="expectation_ends_after_start",
            ),
            models.CheckConstraint(condition=~Q(target_change=0), name="expectation_has_an_extent"),
        ]

    def __str__(self) -> str:
        return self.title


class Initiative(TimeStamped):
    class Stage(models.IntegerChoices):
        IDEA = 1, "Idea"
        PRIORITISED = 2, "Prioritised"
        SHIPPED = 3, "Shipped"
        MEASURED = 4, "Measured"

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    stage = models.PositiveSmallIntegerField(choices=Stage.choices, default=Stage.IDEA)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    unit = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.SET_NULL)
    metrics = models.ManyToManyField(Metric, blank=True, related_name="initiatives")
    claimed_impact = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="Money, claimed."
    )
    verified_impact = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="Money, verified."
    )
    segment_filter = models.JSONField(
        default=dict, blank=True, help_text='Customers it is for, e.g. {"product": "X"}.'
    )
    before_period = models.CharField(max_length=7, blank=True)
    after_period = models.CharField(max_length=7, blank=True)
    verification = models.JSONField(default=dict, blank=True, editable=False)
    shipped_at = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-stage", "title"]

    def __str__(self) -> str:
        return self.title
