"""Open comments at scale: mask, theme (TF-IDF mode) and sentiment-score generated comments.

    .venv/bin/python bench/bench_comments.py --comments 100000 [--seed 1]

Generates seeded customer comments with known topics (not timed), then times each step of the
pipeline a Celery task would run, and prints seconds and comments/s per step and in total
(target: 100,000 comments under 60 s on the 2-core machine): masking of personal data,
themes (vectorising, choosing k on a 2,000-comment sample, the NMF fit on all comments,
labels and representatives), VADER sentiment, and the themes × scores contrast. Also prints
the number of themes, their purity against the known topics and the share left in "other".
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from comments.analysis import (  # noqa: E402
    OTHER,
    contrast_themes,
    find_themes,
    generate_comments,
    mask_personal_data,
    score_sentiment,
    theme_purity,
)


def _timed(name: str, count: int, step: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - start
    print(f"{name:28} {seconds:7.2f} s  {count / seconds:10,.0f} comments/s")
    return result, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    count = arguments.comments
    start = time.perf_counter()
    corpus = generate_comments(count, rng=np.random.default_rng(arguments.seed))
    print(f"generated {count:,} comments in {time.perf_counter() - start:.1f} s (not timed)")
    texts, masking = _timed("mask personal data", count, lambda: [
        mask_personal_data(text) for text in corpus.texts
    ])  # fmt: skip
    themes, theming = _timed("themes (TF-IDF + NMF)", count, lambda: find_themes(
        texts, rng=np.random.default_rng(arguments.seed)
    ))  # fmt: skip
    _, scoring = _timed("sentiment (VADER)", count, lambda: score_sentiment(
        texts, corpus.languages
    ))  # fmt: skip
    labels = {theme.theme_id: theme.label for theme in themes.themes}
    _, contrasting = _timed("themes × scores contrast", count, lambda: contrast_themes(
        themes.assignments, corpus.scores, labels
    ))  # fmt: skip
    total = masking + theming + scoring + contrasting
    print(f"{'total':28} {total:7.2f} s  {count / total:10,.0f} comments/s")
    purity = theme_purity(themes.assignments.tolist(), corpus.topics)
    other = 100 * float(np.mean(themes.assignments == OTHER))
    print(f"{len(themes.themes)} themes, purity {purity:.3f}, {other:.1f} % in other")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
