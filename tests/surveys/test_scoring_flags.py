"""Plausibility flags ("low_n", "too_good_to_be_true") and straight-lining in answer grids.

Oracle for straight-lining: a plain Python loop over each respondent's answered items.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveys.scoring import plausibility_flags, plausibility_flags_cells, straight_lining


def test_plausibility_flags_low_n_below_thirty_answers():
    assert plausibility_flags(n=29) == ("low_n",)
    assert plausibility_flags(n=30) == ()


def test_plausibility_flags_too_good_to_be_true_on_large_sample():
    assert plausibility_flags(n=150, top_box_share=97.0) == ("too_good_to_be_true",)
    assert plausibility_flags(n=150, top_box_share=94.9) == ()


def test_plausibility_flags_perfect_share_on_small_sample_is_only_low_n():
    assert plausibility_flags(n=12, top_box_share=100.0) == ("low_n",)
    assert plausibility_flags(n=99, top_box_share=100.0) == ()


def test_plausibility_flags_thresholds_are_configurable():
    flags = plausibility_flags(
        n=40, top_box_share=91.0, low_n=50, ceiling_share=90.0, ceiling_min_n=40
    )
    assert flags == ("low_n", "too_good_to_be_true")


def test_plausibility_flags_per_cell_from_aggregation_statistics():
    nps_cells = np.array([[200, 195, 0, 200], [10, 5, 1, 10], [120, 60, 20, 120]], dtype=float)
    assert plausibility_flags("nps", nps_cells) == [["too_good_to_be_true"], ["low_n"], []]
    top_box_cells = np.array([[100, 96, 100], [100, 94, 100], [50, 50, 50]], dtype=float)
    assert plausibility_flags_cells("top_box", top_box_cells) == [["too_good_to_be_true"], [], []]
    mean_cells = np.array([[5, 30.0, 190.0], [300, 1500.0, 7600.0]])
    assert plausibility_flags("mean", mean_cells) == [["low_n"], []]


def test_plausibility_flags_without_n_is_an_error():
    with pytest.raises(TypeError, match="n="):
        plausibility_flags(top_box_share=99.0)


def test_straight_lining_flags_identical_answers_across_grid():
    grid = np.array(
        [
            [4, 4, 4, 4],  # straight-liner
            [4, 5, 4, 4],
            [3, 3, np.nan, 3],  # three answered, all equal
            [2, 2, np.nan, np.nan],  # only two answered
            [np.nan] * 4,
        ]
    )
    np.testing.assert_array_equal(straight_lining(grid), [True, False, True, False, False])


def test_straight_lining_minimum_items_is_configurable():
    grid = np.array([[2, 2, np.nan, np.nan], [1, 1, 1, np.nan]])
    np.testing.assert_array_equal(straight_lining(grid, min_items=2), [True, True])
    np.testing.assert_array_equal(straight_lining(grid, min_items=4), [False, False])


def test_straight_lining_rejects_one_dimensional_input():
    with pytest.raises(ValueError, match="two-dimensional"):
        straight_lining([1, 1, 1])


def test_straight_lining_matches_loop_on_seeded_grid():
    rng = np.random.default_rng(42)
    grid = rng.integers(1, 3, size=(400, 4)).astype(float)
    grid[rng.random(grid.shape) < 0.2] = np.nan
    expected = []
    for row in grid:
        answered = [value for value in row if not np.isnan(value)]
        expected.append(len(answered) >= 3 and len(set(answered)) == 1)
    flagged = straight_lining(grid)
    np.testing.assert_array_equal(flagged, expected)
    assert 0 < flagged.sum() < len(grid)  # the sample exercises both outcomes


@given(
    st.lists(
        st.lists(st.one_of(st.none(), st.integers(1, 5)), min_size=1, max_size=6),
        min_size=1,
        max_size=20,
    ).filter(lambda rows: len({len(row) for row in rows}) == 1)
)
def test_straight_lining_flags_only_rows_with_one_distinct_answer(rows):
    grid = np.array([[np.nan if value is None else value for value in row] for row in rows])
    for flagged, row in zip(straight_lining(grid), rows, strict=True):
        answered = [value for value in row if value is not None]
        assert flagged == (len(answered) >= 3 and len(set(answered)) == 1)
