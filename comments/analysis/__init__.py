"""Pure analysis of open comments (no Django): masking, sentiment, themes, themes × scores.

Modules: `masking` (e-mails, phones, card and account numbers → placeholders), `sentiment`
(VADER for English, "not scored" otherwise), `themes` (TF-IDF + NMF, k by stability, identity
across runs), `semantic` (optional: sentence embeddings + k-means; its packages are imported
only when used), `statistics` (theme shares among low vs high scorers with BH q-values, trends
with small-group suppression) and `corpus` (a seeded generator of comments with known topics,
for tests, benchmarks and demos). Every public name is importable from here.
"""

from .corpus import NO_TOPIC, GeneratedComments, generate_comments, theme_purity, topic_names
from .masking import (
    CARD,
    EMAIL,
    PHONE,
    PersonalData,
    find_personal_data,
    iban_valid,
    luhn_valid,
    mask_personal_data,
)
from .semantic import (
    SemanticModeUnavailable,
    choose_cluster_count,
    embed_comments,
    find_semantic_themes,
    semantic_mode_available,
)
from .sentiment import (
    NEGATIVE,
    NEUTRAL,
    NOT_SCORED,
    POSITIVE,
    SentimentScores,
    is_english,
    score_sentiment,
    sentiment_label,
)
from .statistics import (
    CSAT_GROUPS,
    MIN_GROUP_SIZE,
    NPS_GROUPS,
    ScoreGroups,
    ThemeContrast,
    ThemeTrends,
    benjamini_hochberg,
    contrast_themes,
    theme_trends,
    two_proportion_z,
)
from .themes import (
    DEFAULT_THEME_RANGE,
    OTHER,
    Theme,
    ThemeResult,
    ThemeSignature,
    choose_theme_count,
    find_themes,
    match_themes,
    merge_themes,
    merges_for_matches,
    min_document_frequency,
    signature_similarity,
    vectorize,
)

__all__ = [
    "CARD",
    "CSAT_GROUPS",
    "DEFAULT_THEME_RANGE",
    "EMAIL",
    "MIN_GROUP_SIZE",
    "NEGATIVE",
    "NEUTRAL",
    "NOT_SCORED",
    "NO_TOPIC",
    "NPS_GROUPS",
    "OTHER",
    "PHONE",
    "POSITIVE",
    "GeneratedComments",
    "PersonalData",
    "ScoreGroups",
    "SemanticModeUnavailable",
    "SentimentScores",
    "Theme",
    "ThemeContrast",
    "ThemeResult",
    "ThemeSignature",
    "ThemeTrends",
    "benjamini_hochberg",
    "choose_cluster_count",
    "choose_theme_count",
    "contrast_themes",
    "embed_comments",
    "find_personal_data",
    "find_semantic_themes",
    "find_themes",
    "generate_comments",
    "iban_valid",
    "is_english",
    "luhn_valid",
    "mask_personal_data",
    "match_themes",
    "merge_themes",
    "merges_for_matches",
    "min_document_frequency",
    "score_sentiment",
    "semantic_mode_available",
    "sentiment_label",
    "signature_similarity",
    "theme_purity",
    "theme_trends",
    "topic_names",
    "two_proportion_z",
    "vectorize",
]
