"""Themes: TF-IDF + NMF on generated comments with known topics; identity across runs; merges."""

import numpy as np
import pytest

from comments.analysis import (
    OTHER,
    ThemeSignature,
    find_themes,
    generate_comments,
    mask_personal_data,
    match_themes,
    merge_themes,
    merges_for_matches,
    signature_similarity,
    theme_purity,
    topic_names,
)

CUSTOMER_TOPICS = len(topic_names("customer"))


@pytest.fixture(scope="module")
def corpus():
    """3,000 generated customer comments; runs use the first and the last 2,000."""
    generated = generate_comments(3000, rng=np.random.default_rng(11))
    return generated, [mask_personal_data(text) for text in generated.texts]


@pytest.fixture(scope="module")
def first_run(corpus):
    _, texts = corpus
    return find_themes(texts[:2000], rng=np.random.default_rng(5))


@pytest.fixture(scope="module")
def second_run(corpus):
    _, texts = corpus
    return find_themes(texts[1000:], rng=np.random.default_rng(6))


def _majority_topics(result, topics) -> dict[int, str]:
    majority = {}
    for theme in result.themes:
        members = [topics[i] for i in np.flatnonzero(result.assignments == theme.theme_id)]
        majority[theme.theme_id] = max(set(members), key=members.count)
    return majority


def test_find_themes_recovers_known_topics_with_purity_at_least_080(corpus, first_run) -> None:
    generated, _ = corpus
    purity = theme_purity(first_run.assignments.tolist(), generated.topics[:2000])
    assert purity >= 0.8
    assert np.mean(first_run.assignments == OTHER) < 0.15
    found = set(_majority_topics(first_run, generated.topics[:2000]).values())
    assert found == set(topic_names("customer"))  # every known topic leads some theme


def test_find_themes_chooses_a_number_of_themes_near_the_known_topics(first_run) -> None:
    # Six topics; a topic may split into praise and complaint sub-themes (documented).
    assert CUSTOMER_TOPICS - 1 <= len(first_run.themes) <= CUSTOMER_TOPICS + 3
    tried = [k for k, _ in first_run.k_scores]
    assert tried == list(range(3, 13))


def test_find_themes_is_deterministic_for_a_seed() -> None:
    texts = generate_comments(600, rng=np.random.default_rng(2)).texts
    first = find_themes(texts, rng=np.random.default_rng(9))
    again = find_themes(texts, rng=np.random.default_rng(9))
    assert first.themes == again.themes
    assert np.array_equal(first.assignments, again.assignments)
    assert np.array_equal(first.strengths, again.strengths)
    assert first.k_scores == again.k_scores


def test_find_themes_numbers_themes_by_size_with_labels_and_distinct_representatives(
    corpus, first_run
) -> None:
    _, texts = corpus
    sizes = [theme.size for theme in first_run.themes]
    assert sizes == sorted(sizes, reverse=True)
    assert [theme.theme_id for theme in first_run.themes] == list(range(len(sizes)))
    for theme in first_run.themes:
        assert theme.size == np.sum(first_run.assignments == theme.theme_id)
        assert theme.label and theme.terms[0] in theme.label
        assert len(theme.representatives) == 2
        first, second = (texts[index].lower() for index in theme.representatives)
        assert first != second
        assert all(first_run.assignments[i] == theme.theme_id for i in theme.representatives)


def test_find_themes_puts_comments_without_known_words_in_other(corpus) -> None:
    _, texts = corpus
    extra = ["-", "", "[email]", "n/a"]
    result = find_themes(list(texts[:400]) + extra, rng=np.random.default_rng(1))
    assert (result.assignments[-4:] == OTHER).all()


def test_find_themes_fixed_number_of_themes_skips_the_choice(corpus) -> None:
    _, texts = corpus
    result = find_themes(texts[:500], rng=np.random.default_rng(1), n_themes=4)
    assert len(result.themes) == 4 and result.k_scores == ()


def test_find_themes_too_few_comments_puts_everything_in_other() -> None:
    result = find_themes(["late delivery"] * 5, rng=np.random.default_rng(1))
    assert result.themes == () and result.warnings == ("too_few_comments",)
    assert (result.assignments == OTHER).all()


def test_find_themes_only_stop_words_gives_no_vocabulary() -> None:
    result = find_themes(["it is what it is", "the and a"] * 10, rng=np.random.default_rng(1))
    assert result.warnings == ("no_vocabulary",)
    assert (result.assignments == OTHER).all()


def test_match_themes_keeps_identities_across_runs_on_overlapping_data(
    corpus, first_run, second_run
) -> None:
    generated, _ = corpus
    before = _majority_topics(first_run, generated.topics[:2000])
    after = _majority_topics(second_run, generated.topics[1000:])
    matches = match_themes(
        [theme.signature for theme in first_run.themes],
        [theme.signature for theme in second_run.themes],
    )
    matched = {current: previous for current, previous in matches.items() if previous is not None}
    assert len(matched) >= min(len(first_run.themes), len(second_run.themes)) - 1
    for current, previous in matched.items():
        assert after[current] == before[previous]


def _signature(**weights: float) -> ThemeSignature:
    return ThemeSignature.from_dict(weights)


def test_signature_similarity_is_the_cosine_of_term_weights() -> None:
    # (0.6, 0.8) on (late, delivery) vs (1, 0): cosine 0.6.
    assert signature_similarity(_signature(late=3, delivery=4), _signature(late=1)) == (
        pytest.approx(0.6, rel=1e-12)
    )
    assert signature_similarity(_signature(app=1), _signature(staff=1)) == 0.0


def test_theme_signature_round_trips_through_a_dict() -> None:
    signature = _signature(late=3, delivery=4)
    assert signature.as_dict() == pytest.approx({"late": 0.6, "delivery": 0.8})
    assert ThemeSignature.from_dict(signature.as_dict()) == signature


def test_match_themes_leaves_dissimilar_themes_unmatched() -> None:
    previous = [_signature(late=1, delivery=1), _signature(staff=1, friendly=1)]
    current = [_signature(app=1, crash=1), _signature(friendly=1, staff=0.9, nice=0.2)]
    assert match_themes(previous, current) == {0: None, 1: 1}


def test_match_themes_assigns_one_to_one_by_total_similarity() -> None:
    previous = [_signature(a=1, b=1), _signature(a=1, c=1)]
    current = [_signature(a=1, c=1.2), _signature(a=1, b=1.2)]
    assert match_themes(previous, current) == {0: 1, 1: 0}


def test_match_themes_resolves_merged_themes_to_the_survivor() -> None:
    previous = [_signature(delivery=1, late=1), _signature(courier=1, driver=1)]
    current = [_signature(delivery=1, late=0.9), _signature(driver=1, courier=0.8)]
    matches = match_themes(previous, current, merged_into={1: 0})
    assert matches == {0: 0, 1: 0}
    assert merges_for_matches(matches) == {1: 0}


def test_match_themes_rejects_a_merge_cycle() -> None:
    previous = [_signature(a=1), _signature(b=1)]
    with pytest.raises(ValueError, match="cycle"):
        match_themes(previous, [_signature(a=1)], merged_into={0: 1, 1: 0})


def test_merge_themes_folds_comments_strengths_and_signature(corpus, first_run) -> None:
    _, texts = corpus
    texts = texts[:2000]
    merged = merge_themes(first_run, {1: 0}, texts)
    assert [theme.theme_id for theme in merged.themes] == [
        theme.theme_id for theme in first_run.themes if theme.theme_id != 1
    ]
    survivor = merged.themes[0]
    assert survivor.size == first_run.themes[0].size + first_run.themes[1].size
    was_one = first_run.assignments == 1
    assert (merged.assignments[was_one] == 0).all()
    assert np.array_equal(merged.assignments[~was_one], first_run.assignments[~was_one])
    expected = first_run.strengths[:, 0] + first_run.strengths[:, 1]
    assert merged.strengths[:, 0] == pytest.approx(expected)
    assert merged.strengths.shape == (2000, len(first_run.themes) - 1)
    old_terms = set(first_run.themes[0].signature.terms) | set(first_run.themes[1].signature.terms)
    assert set(survivor.signature.terms) <= old_terms
    assert all(merged.assignments[i] == 0 for i in survivor.representatives)


def test_merge_themes_rejects_an_unknown_theme(first_run, corpus) -> None:
    with pytest.raises(ValueError, match="theme id"):
        merge_themes(first_run, {99: 0}, corpus[1][:2000])
