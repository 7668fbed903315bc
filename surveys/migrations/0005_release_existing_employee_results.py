"""Data migration: existing employee and anonymous data under the release rule.

- Invitations: `used` is set wherever `used_at` was; for employee and anonymous surveys the
  time of use is then dropped (only the fact is kept).
- Employee responses keep only the day of submission (anonymous ones already did), and
  employee and anonymous responses no segment (no survey has reporting attributes yet).
- Answers of employee and anonymous surveys in periods that have ended, or of closed
  surveys, are marked released by one wave release per survey and period: their scores
  were readable before, and a release recomputes exactly those values. Answers of periods
  still running stay pending, and the live scores computed from them are deleted (a
  release writes them again when the wave closes).
Reverse: invitations get `used_at` back only where it was kept; releases are removed.
"""

import datetime

from django.db import migrations
from django.db.models import Q
from django.db.models.functions import TruncDay
from django.utils import timezone

CONFIDENTIAL = Q(audience="employee") | Q(anonymous=True)


def _period_end(label: str) -> datetime.date:
    """First day after a "YYYY-MM" or "YYYY-Qn" period."""
    year, part = label.split("-")
    if part.startswith("Q"):
        month = (int(part[1:]) - 1) * 3 + 4
    else:
        month = int(part) + 1
    return datetime.date(int(year) + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def release_existing(apps, schema_editor) -> None:
    Survey = apps.get_model("surveys", "Survey")
    Invitation = apps.get_model("surveys", "Invitation")
    Response = apps.get_model("surveys", "Response")
    Answer = apps.get_model("surveys", "Answer")
    ResultRelease = apps.get_model("surveys", "ResultRelease")
    MetricValue = apps.get_model("surveys", "MetricValue")
    Question = apps.get_model("surveys", "Question")

    Invitation.objects.filter(used_at__isnull=False).update(used=True)
    confidential = Survey.objects.filter(CONFIDENTIAL)
    Invitation.objects.filter(survey__in=confidential).update(used_at=None)
    Response.objects.filter(survey__audience="employee").update(
        submitted_at=TruncDay("submitted_at")
    )
    Response.objects.filter(survey__in=confidential).update(segment={})
    today, now = timezone.localdate(), timezone.now()
    keys = set(
        Question.objects.filter(survey__in=confidential)
        .exclude(metric_key="")
        .values_list("metric_key", flat=True)
    )
    running: set[str] = set()
    for survey in confidential:
        labels = Response.objects.filter(survey=survey).values_list("period", flat=True)
        for label in sorted(set(labels)):
            if survey.status != "closed" and _period_end(label) > today:
                running.add(label)
                continue
            release = ResultRelease.objects.create(
                survey=survey, period=label, kind="wave", released_at=now
            )
            Answer.objects.filter(question__survey=survey, response__period=label).update(
                release=release
            )
    MetricValue.objects.filter(
        metric__key__in=keys, period__in=running, source="computed"
    ).delete()


def restore_times(apps, schema_editor) -> None:
    Answer = apps.get_model("surveys", "Answer")
    ResultRelease = apps.get_model("surveys", "ResultRelease")
    Answer.objects.filter(release__isnull=False).update(release=None)
    ResultRelease.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("surveys", "0004_employee_results_release_and_invitation_use")]

    operations = [migrations.RunPython(release_existing, restore_times)]
