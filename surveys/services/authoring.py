"""Authoring edits with side effects: a saved question makes sure its metric exists."""

from django.db import transaction

from ..models import Question
from .metrics import ensure_metrics_for_questions


@transaction.atomic
def save_question(*, question: Question) -> Question:
    """Save a question; a metric key it feeds gets a catalogue metric if it has none."""
    question.save()
    ensure_metrics_for_questions([question])
    return question
