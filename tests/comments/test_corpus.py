"""The seeded comment generator (comments.analysis.corpus) and the purity measure."""

import numpy as np
import pytest

from comments.analysis import (
    NO_TOPIC,
    find_personal_data,
    generate_comments,
    theme_purity,
    topic_names,
)


@pytest.fixture(scope="module")
def customer():
    return generate_comments(3000, rng=np.random.default_rng(1))


def test_generate_comments_is_deterministic_for_a_seed() -> None:
    first = generate_comments(300, rng=np.random.default_rng(4), audience="employee")
    again = generate_comments(300, rng=np.random.default_rng(4), audience="employee")
    assert first.texts == again.texts and first.topics == again.topics
    assert np.array_equal(first.scores, again.scores) and first.languages == again.languages
    other = generate_comments(300, rng=np.random.default_rng(5), audience="employee")
    assert other.texts != first.texts


def test_generate_comments_uses_the_known_topics(customer) -> None:
    assert set(customer.topics) == set(topic_names("customer")) | {NO_TOPIC}
    employee = generate_comments(500, rng=np.random.default_rng(2), audience="employee")
    assert set(employee.topics) == {"workload", "manager support", "pay", "tools", NO_TOPIC}


def test_generate_comments_ties_scores_to_topics(customer) -> None:
    topics = np.array(customer.topics)
    scores = customer.scores
    assert scores.min() >= 0 and scores.max() <= 10
    delays = scores[topics == "delivery delays"]
    staff = scores[topics == "friendly staff"]
    assert np.mean(delays <= 6) > 0.7  # mostly detractors
    assert np.mean(staff >= 9) > 0.6  # mostly promoters


def test_generate_comments_marks_other_languages_and_adds_personal_data(customer) -> None:
    languages = np.array(customer.languages)
    foreign = np.flatnonzero(languages != "en")
    assert 0.01 < foreign.size / languages.size < 0.04
    assert set(languages[foreign]) <= {"de", "fr", "es", "nl"}
    with_personal_data = sum(bool(find_personal_data(text)) for text in customer.texts)
    assert 0.01 < with_personal_data / len(customer.texts) < 0.06


def test_generate_comments_varies_wording(customer) -> None:
    assert len(set(customer.texts)) > 0.7 * len(customer.texts)
    lengths = [len(text.split()) for text in customer.texts]
    assert min(lengths) <= 2 and max(lengths) >= 25


def test_generate_comments_rejects_an_unknown_audience() -> None:
    with pytest.raises(ValueError, match="audience"):
        generate_comments(5, rng=np.random.default_rng(1), audience="supplier")


def test_theme_purity_matches_a_hand_count() -> None:
    # Theme 0: a a b (majority a: 2); theme 1: b b (2); theme 2: c (1); "other" left out.
    assignments = [0, 0, 0, 1, 1, 2, -1, -1]
    topics = ["a", "a", "b", "b", "b", "c", "a", "c"]
    assert theme_purity(assignments, topics) == pytest.approx(5 / 6)
    assert np.isnan(theme_purity([-1, -1], ["a", "b"]))
