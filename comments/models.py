"""Themes of open comments (text answers) per survey and period range, and their sentiment.

A `ThemeRun` groups the comments a survey received over a range of periods; its `Theme`s and
each comment's `CommentTheme` are written in one transaction by `services.compute_theme_run`.
Texts are never copied here: comments stay in `surveys.Answer.text` and are read (and masked)
through `selectors`, which apply the release and group-size rules.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from common.models import TimeStamped
from surveys.models import Answer, Survey


class ThemeRun(TimeStamped):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Mode(models.TextChoices):
        TFIDF = "tfidf", "TF-IDF + NMF"
        SEMANTIC = "semantic", "Sentence embeddings + k-means"

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="theme_runs")
    first_period = models.CharField(max_length=7)
    last_period = models.CharField(max_length=7)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.TFIDF)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    seed = models.PositiveIntegerField(default=20261203)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    comment_count = models.PositiveIntegerField(default=0)
    k_scores = models.JSONField(default=list, blank=True, help_text="[k, criterion] per k tried.")
    warnings = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["survey", "status", "last_period"], name="themerun_survey_status")
        ]

    def __str__(self) -> str:
        return f"Themes of {self.survey} {self.first_period}–{self.last_period} ({self.status})"


class Theme(models.Model):
    """One theme of a run: its label from top terms, the name a leader gave it, its signature.

    A theme merged into another (`merged_into`) keeps its row so that later runs can still
    recognise it and fold its successor into the survivor.
    """

    run = models.ForeignKey(ThemeRun, on_delete=models.CASCADE, related_name="themes")
    number = models.PositiveSmallIntegerField(help_text="Position in the run, largest first.")
    label = models.CharField(max_length=200, help_text="Top terms, from the analysis.")
    name = models.CharField(max_length=120, blank=True, help_text="Name given by a leader.")
    top_terms = models.JSONField(default=list)
    signature = models.JSONField(default=dict, help_text="Term → weight, to match later runs.")
    size = models.PositiveIntegerField(default=0)
    representatives = models.JSONField(
        default=list, help_text="Answer ids of two representative comments."
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged"
    )

    class Meta:
        ordering = ["run", "number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="theme_number_unique_in_run"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or self.label


class CommentTheme(models.Model):
    """A comment's theme in a run (null: "other"), with the share of it the theme reproduces."""

    run = models.ForeignKey(ThemeRun, on_delete=models.CASCADE, related_name="assignments")
    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="+")
    theme = models.ForeignKey(
        Theme, null=True, blank=True, on_delete=models.CASCADE, related_name="assignments"
    )
    strength = models.FloatField(default=0.0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "answer"], name="one_theme_per_comment_in_run"),
        ]
        indexes = [models.Index(fields=["theme", "strength"], name="commenttheme_theme_strength")]

    def __str__(self) -> str:
        return f"{self.answer_id} → {self.theme_id}"


class CommentSentiment(models.Model):
    """VADER sentiment of one comment; non-English comments are "not scored" (no compound)."""

    class Label(models.TextChoices):
        POSITIVE = "positive", "Positive"
        NEUTRAL = "neutral", "Neutral"
        NEGATIVE = "negative", "Negative"
        NOT_SCORED = "not_scored", "Not scored (not English)"

    answer = models.OneToOneField(Answer, on_delete=models.CASCADE, related_name="sentiment")
    compound = models.FloatField(null=True, blank=True)
    label = models.CharField(max_length=12, choices=Label.choices)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(label="not_scored", compound__isnull=True)
                | (~Q(label="not_scored") & Q(compound__isnull=False)),
                name="sentiment_scored_has_compound",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.answer_id}: {self.label}"
