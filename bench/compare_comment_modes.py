"""Theme purity of the TF-IDF mode and the semantic (embedding) mode on the same generated corpus.

    .venv/bin/python bench/compare_comment_modes.py [--comments 2000] [--seed 1]

Prints, for each mode, the number of themes chosen, the purity of the found themes against the
known topics (``theme_purity``), the share of comments left in "other" and the time. The
semantic mode needs ``make install-semantic``; without it the script says so and prints the
TF-IDF line only.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from comments.analysis import (  # noqa: E402
    OTHER,
    SemanticModeUnavailable,
    embed_comments,
    find_semantic_themes,
    find_themes,
    generate_comments,
    mask_personal_data,
    theme_purity,
)


def _line(mode: str, result, topics, seconds: float) -> str:
    other = float(np.mean(result.assignments == OTHER))
    purity = theme_purity(result.assignments.tolist(), topics)
    return (
        f"{mode:9} themes={len(result.themes):2d}  purity={purity:.3f}  "
        f"other={100 * other:.1f} %  time={seconds:.1f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--audience", default="customer", choices=["customer", "employee"])
    arguments = parser.parse_args()
    corpus = generate_comments(
        arguments.comments, rng=np.random.default_rng(arguments.seed), audience=arguments.audience
    )
    texts = [mask_personal_data(text) for text in corpus.texts]
    print(
        f"{arguments.comments} {arguments.audience} comments, seed {arguments.seed}, "
        f"{len(set(corpus.topics)) - ('none' in corpus.topics)} known topics"
    )
    start = time.perf_counter()
    tfidf = find_themes(texts, rng=np.random.default_rng(arguments.seed))
    print(_line("tf-idf", tfidf, corpus.topics, time.perf_counter() - start))
    try:
        start = time.perf_counter()
        embeddings = embed_comments(texts)
        embedded = time.perf_counter() - start
        semantic = find_semantic_themes(
            texts, rng=np.random.default_rng(arguments.seed), embeddings=embeddings
        )
    except SemanticModeUnavailable as error:
        print(f"semantic  unavailable: {error}")
        return 0
    line = _line("semantic", semantic, corpus.topics, time.perf_counter() - start)
    print(f"{line} (embedding {embedded:.1f} s)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    raise SystemExit(main())
