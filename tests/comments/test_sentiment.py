"""VADER sentiment for English comments; other languages are "not scored" (comments.analysis)."""

import math

import numpy as np
import pytest

from comments.analysis import NOT_SCORED, is_english, score_sentiment, sentiment_label


def _vader_compound(valence_sum: float) -> float:
    # Hutto & Gilbert (2014): compound = x / sqrt(x² + α) with α = 15, rounded to 4 decimals.
    return round(valence_sum / math.sqrt(valence_sum**2 + 15), 4)


def test_score_sentiment_single_word_matches_the_vader_normalisation_by_hand() -> None:
    # Lexicon valences: good 1.9, bad -2.5.
    scores = score_sentiment(["good", "bad"], "en")
    assert scores.compound == pytest.approx([_vader_compound(1.9), _vader_compound(-2.5)])
    assert scores.labels == ("positive", "negative")


def test_score_sentiment_negation_flips_the_valence_by_vaders_scalar() -> None:
    # "not good": the negation scalar -0.74 applies to good's 1.9.
    scores = score_sentiment(["The food is not good"], "en")
    assert scores.compound[0] == pytest.approx(_vader_compound(1.9 * -0.74))
    assert scores.labels == ("negative",)


def test_score_sentiment_labels_clear_sentences() -> None:
    texts = [
        "The staff were wonderful and so helpful, I love this shop!",
        "Horrible service, the cashier was rude and the app is useless.",
        "I ordered on Tuesday.",
    ]
    assert score_sentiment(texts, "en").labels == ("positive", "negative", "neutral")


def test_score_sentiment_other_language_is_not_scored() -> None:
    texts = ["Das Personal war sehr freundlich", "Le personnel était très aimable", "Great!"]
    scores = score_sentiment(texts, ["de", "fr", "en"])
    assert scores.labels[:2] == (NOT_SCORED, NOT_SCORED)
    assert np.isnan(scores.compound[:2]).all()
    assert scores.scored.tolist() == [False, False, True]


def test_score_sentiment_unknown_language_is_not_scored_unless_a_default_is_given() -> None:
    texts = ["Great service", "Terrible service"]
    assert score_sentiment(texts, [None, ""]).labels == (NOT_SCORED, NOT_SCORED)
    assert score_sentiment(texts, None).labels == (NOT_SCORED, NOT_SCORED)
    scored = score_sentiment(texts, [None, ""], default_language="en")
    assert scored.labels == ("positive", "negative")


def test_score_sentiment_empty_comment_is_not_scored() -> None:
    scores = score_sentiment(["", "   "], "en")
    assert scores.labels == (NOT_SCORED, NOT_SCORED)
    assert not scores.scored.any()


def test_score_sentiment_rejects_a_language_list_of_another_length() -> None:
    with pytest.raises(ValueError, match="one code per comment"):
        score_sentiment(["a", "b"], ["en"])


def test_score_sentiment_repeated_texts_get_the_same_score() -> None:
    scores = score_sentiment(["Lovely staff"] * 3 + ["Slow delivery"], "en")
    assert scores.compound[0] == scores.compound[1] == scores.compound[2]


@pytest.mark.parametrize(
    ("code", "english"),
    [("en", True), ("EN", True), ("en-GB", True), ("en_US", True), ("eng", True),
     ("de", False), ("fr-CA", False), ("", False), (None, False), ("und", False)],
)  # fmt: skip
def test_is_english_reads_language_tags(code: str | None, english: bool) -> None:
    assert is_english(code) is english


@pytest.mark.parametrize(
    ("compound", "label"),
    [(0.05, "positive"), (0.0499, "neutral"), (0.0, "neutral"), (-0.0499, "neutral"),
     (-0.05, "negative"), (float("nan"), NOT_SCORED)],
)  # fmt: skip
def test_sentiment_label_uses_the_plus_minus_005_cutoffs(compound: float, label: str) -> None:
    assert sentiment_label(compound) == label
