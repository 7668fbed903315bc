"""Sentiment of English open comments with VADER; other languages are "not scored", never guessed.

Method: VADER (Hutto & Gilbert 2014, "VADER: A Parsimonious Rule-based Model for Sentiment
Analysis of Social Media Text", ICWSM), a lexicon of ~7,500 rated English words with rules for
negation ("not good"), intensifiers ("very"), "but" and punctuation. Its compound score is the
normalised sum of valences, in −1..1; the authors' cut-offs give the label: compound ≥ 0.05
positive, ≤ −0.05 negative, otherwise neutral. The lexicon ships inside the vaderSentiment
wheel: nothing is downloaded at run time.

The lexicon is English: a comment whose language code is not English (or unknown, unless the
caller names a default) is "not scored" and gets NaN, because VADER would read a German or
French comment as neutral for want of known words, not because it is neutral.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

POSITIVE = "positive"
NEUTRAL = "neutral"
NEGATIVE = "negative"
NOT_SCORED = "not_scored"
POSITIVE_CUTOFF = 0.05
NEGATIVE_CUTOFF = -0.05
_ENGLISH_CODES = frozenset({"en", "eng", "english"})


@dataclass(frozen=True)
class SentimentScores:
    """Per comment: VADER compound (NaN when not scored), label, and whether it was scored."""

    compound: FloatArray
    labels: tuple[str, ...]
    scored: BoolArray


@functools.cache
def _analyzer() -> SentimentIntensityAnalyzer:
    """One analyzer per process: it reads the lexicon files once."""
    return SentimentIntensityAnalyzer()


def is_english(language: str | None) -> bool:
    """True for an English language code: "en", "EN", "en-GB", "en_US", "eng"."""
    if not language:
        return False
    primary = language.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary in _ENGLISH_CODES


def sentiment_label(compound: float) -> str:
    """Hutto & Gilbert's label for a compound score; NaN gives "not_scored"."""
    if np.isnan(compound):
        return NOT_SCORED
    if compound >= POSITIVE_CUTOFF:
        return POSITIVE
    if compound <= NEGATIVE_CUTOFF:
        return NEGATIVE
    return NEUTRAL


def _languages(
    languages: Sequence[str | None] | str | None, count: int, default_language: str | None
) -> list[str | None]:
    """One language code per comment; a missing one becomes ``default_language``."""
    if languages is None or isinstance(languages, str):
        languages = [languages] * count
    if len(languages) != count:
        raise ValueError("languages must give one code per comment")
    return [language or default_language for language in languages]


def score_sentiment(
    texts: Sequence[str],
    languages: Sequence[str | None] | str | None,
    *,
    default_language: str | None = None,
) -> SentimentScores:
    """VADER compound score and label for each English comment; others "not scored".

    ``languages`` is one code per comment, or one code for all. A missing code (None or "")
    counts as unknown and is not scored unless the caller passes ``default_language`` (e.g.
    the survey's language). Empty comments are not scored. Identical texts are scored once.
    Method, cut-offs and citation: module docstring.
    """
    codes = _languages(languages, len(texts), default_language)
    pairs = zip(texts, codes, strict=True)
    scored = np.array(
        [is_english(code) and bool(text and text.strip()) for text, code in pairs], dtype=bool
    )
    cache: dict[str, float] = {}
    analyzer = _analyzer()
    compound = np.full(len(texts), np.nan)
    for index in np.flatnonzero(scored):
        text = texts[int(index)]
        if text not in cache:
            cache[text] = float(analyzer.polarity_scores(text)["compound"])
        compound[index] = cache[text]
    labels = tuple(sentiment_label(value) for value in compound)
    return SentimentScores(compound=compound, labels=labels, scored=scored)
