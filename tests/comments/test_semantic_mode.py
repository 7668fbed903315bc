"""Optional semantic mode: k-means on embeddings; clear error without the model packages."""

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

import comments.analysis.semantic as semantic
from comments.analysis import (
    OTHER,
    SemanticModeUnavailable,
    find_semantic_themes,
    generate_comments,
    theme_purity,
)

MODEL_INSTALLED = importlib.util.find_spec(semantic.MODEL_MODULE) is not None


def _topic_embeddings(topics: tuple[str, ...], rng: np.random.Generator) -> np.ndarray:
    """Unit vectors scattered around one random direction per topic (384 dimensions)."""
    names = sorted(set(topics))
    centres = rng.normal(size=(len(names), 384))
    points = np.array([centres[names.index(topic)] for topic in topics])
    points += rng.normal(scale=0.06, size=points.shape) * np.sqrt(384)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def test_find_semantic_themes_clusters_given_embeddings_and_labels_by_terms() -> None:
    corpus = generate_comments(600, rng=np.random.default_rng(3))
    embeddings = _topic_embeddings(corpus.topics, np.random.default_rng(4))
    result = find_semantic_themes(corpus.texts, rng=np.random.default_rng(5), embeddings=embeddings)
    assert len(result.themes) == len(set(corpus.topics))  # six topics and "nothing specific"
    assert theme_purity(result.assignments.tolist(), corpus.topics) > 0.98
    labels = " ".join(theme.label for theme in result.themes)
    for word in ("delivery", "staff", "app", "quality"):
        assert word in labels
    assert [k for k, _ in result.k_scores] == list(range(3, 13))


def test_find_semantic_themes_is_deterministic_for_a_seed() -> None:
    corpus = generate_comments(300, rng=np.random.default_rng(6))
    embeddings = _topic_embeddings(corpus.topics, np.random.default_rng(7))
    first = find_semantic_themes(corpus.texts, rng=np.random.default_rng(8), embeddings=embeddings)
    again = find_semantic_themes(corpus.texts, rng=np.random.default_rng(8), embeddings=embeddings)
    assert first.themes == again.themes
    assert np.array_equal(first.assignments, again.assignments)


def test_find_semantic_themes_missing_package_raises_semantic_mode_unavailable(
    monkeypatch,
) -> None:
    semantic._model.cache_clear()
    monkeypatch.setitem(sys.modules, semantic.MODEL_MODULE, None)  # import now fails
    try:
        with pytest.raises(SemanticModeUnavailable, match="requirements-semantic.txt"):
            find_semantic_themes(["late delivery"] * 20, rng=np.random.default_rng(1))
        assert not semantic.semantic_mode_available()
    finally:
        semantic._model.cache_clear()


def test_default_mode_never_imports_the_embedding_packages() -> None:
    code = (
        "import sys, numpy as np\n"
        "from comments.analysis import find_themes, score_sentiment, generate_comments\n"
        "texts = generate_comments(200, rng=np.random.default_rng(1)).texts\n"
        "find_themes(texts, rng=np.random.default_rng(1)); score_sentiment(texts, 'en')\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers',\n"
        f"    '{semantic.MODEL_MODULE}') if m in sys.modules))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"


@pytest.mark.skipif(not MODEL_INSTALLED, reason="semantic mode packages not installed")
def test_find_semantic_themes_with_the_packaged_model_groups_known_topics() -> None:
    corpus = generate_comments(150, rng=np.random.default_rng(9), nothing_share=0.0)
    english = [i for i, language in enumerate(corpus.languages) if language == "en"]
    texts = [corpus.texts[i] for i in english]
    topics = [corpus.topics[i] for i in english]
    result = find_semantic_themes(texts, rng=np.random.default_rng(2), n_themes=6)
    assert theme_purity(result.assignments.tolist(), topics) >= 0.8
    assert np.mean(result.assignments == OTHER) < 0.2
