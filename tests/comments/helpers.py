"""Building surveys with open comments for the comments app's tests (bulk inserts)."""

from collections.abc import Sequence

import numpy as np

from comments.analysis import generate_comments
from surveys.models import Answer, Question, Response, Survey
from tests.factories import QuestionFactory, SurveyFactory, release_answers


def survey_with_comments(**survey_fields) -> tuple[Survey, Question, Question]:
    """A survey with an NPS question and an open-text question."""
    survey = SurveyFactory(**survey_fields)
    score = QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS, order=1)
    text = QuestionFactory(
        survey=survey, code="why", type=Question.Type.TEXT, text="Why?", order=2, required=False
    )
    return survey, score, text


def add_comments(
    survey: Survey,
    unit,
    comments: Sequence[tuple[int, str]],
    *,
    period: str = "2026-01",
    released: bool = True,
    language: str = "en",
) -> list[Response]:
    """One response per (score, text) from `unit`; the score answer is released (employee
    surveys) when `released`, as a release would."""
    score_question = survey.questions.get(code="nps")
    text_question = survey.questions.get(code="why")
    responses = Response.objects.bulk_create(
        Response(survey=survey, unit=unit, period=period, language=language) for _ in comments
    )
    answers = []
    for response, (score, text) in zip(responses, comments, strict=True):
        answers.append(Answer(response=response, question=score_question, number=score))
        if text:
            answers.append(Answer(response=response, question=text_question, text=text))
    Answer.objects.bulk_create(answers)
    if released and survey.is_confidential:
        release_answers()
    return responses


def generated(n: int, seed: int = 1, audience: str = "customer"):
    """`n` generated comments with known topics: (pairs of score and text, topics)."""
    corpus = generate_comments(
        n, rng=np.random.default_rng(seed), audience=audience, foreign_share=0.0
    )
    pairs = [(int(score), text) for score, text in zip(corpus.scores, corpus.texts, strict=True)]
    return pairs, corpus.topics
