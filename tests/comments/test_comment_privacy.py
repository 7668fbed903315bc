"""Employee comments: release, groups of at least COMMENT_MIN_RESPONDENTS, masking, order, and
the attacks: subtraction across units, before/after one submission, submission order."""

import pytest
from scipy import stats

from comments.models import ThemeRun
from comments.selectors import comments_page, readable_comments
from comments.services import compute_theme_run
from surveys.models import Answer, Response, ResultRelease
from surveys.visibility import SYSTEM
from tests.comments.helpers import add_comments, survey_with_comments

pytestmark = pytest.mark.django_db


@pytest.fixture
def pulse(db):
    survey, _, _ = survey_with_comments(employee=True)
    return survey


def _texts(reader, survey, unit=None) -> set[str]:
    return set(readable_comments(reader, survey, unit=unit).values_list("text", flat=True))


def _comments(unit_code: str, count: int, start: int = 0) -> list[tuple[int, str]]:
    return [
        (5, f"{unit_code} comment {index} about workload") for index in range(start, start + count)
    ]


def test_employee_comments_of_a_group_below_the_minimum_are_never_readable(org_tree, pulse):
    small, big = org_tree["stores"][:2]
    add_comments(pulse, small, _comments("small", 9))
    add_comments(pulse, big, _comments("big", 10))
    assert _texts(SYSTEM, pulse, small) == set()
    assert len(_texts(SYSTEM, pulse, big)) == 10
    assert _texts(SYSTEM, pulse, org_tree["company"]) == _texts(SYSTEM, pulse, big)


def test_comment_minimum_is_a_setting_separate_from_the_score_threshold(org_tree, pulse, settings):
    settings.COMMENT_MIN_RESPONDENTS = 6
    assert pulse.anonymity_threshold == 5
    add_comments(pulse, org_tree["stores"][0], _comments("six", 6))
    assert len(_texts(SYSTEM, pulse)) == 6
    settings.COMMENT_MIN_RESPONDENTS = 7
    assert _texts(SYSTEM, pulse) == set()


def test_comments_wait_for_the_release_of_their_wave(org_tree, pulse):
    add_comments(pulse, org_tree["stores"][0], _comments("waiting", 20), released=False)
    assert _texts(SYSTEM, pulse) == set()


def test_subtraction_across_units_reveals_no_small_group(org_tree, pulse):
    n1, n2, s1, s2 = org_tree["stores"]
    add_comments(pulse, n1, _comments("n1", 12))
    add_comments(pulse, n2, _comments("n2", 4))
    add_comments(pulse, s1, _comments("s1", 15))
    add_comments(pulse, s2, _comments("s2", 9))
    company = _texts(SYSTEM, pulse, org_tree["company"])
    north, south = (_texts(SYSTEM, pulse, org_tree[r]) for r in ("north", "south"))
    leaves = set().union(*(_texts(SYSTEM, pulse, store) for store in org_tree["stores"]))
    # Every difference of two readings is a union of whole groups of at least 10.
    assert company == north | south == leaves
    assert north - _texts(SYSTEM, pulse, n1) == set()
    assert not any(text.startswith(("n2", "s2")) for text in company)


def test_one_more_submission_or_a_small_later_release_changes_no_reading(org_tree, pulse):
    store = org_tree["stores"][0]
    add_comments(pulse, store, _comments("first", 12))
    before = _texts(SYSTEM, pulse, org_tree["company"])
    add_comments(pulse, store, _comments("late", 1), released=False)
    assert _texts(SYSTEM, pulse, org_tree["company"]) == before
    # A later release publishing that one response alone forms a group of one: still hidden.
    late = Answer.objects.filter(release__isnull=True)
    release = ResultRelease.objects.create(survey=pulse, period="2026-01", kind="batch")
    late.update(release=release)
    assert _texts(SYSTEM, pulse, org_tree["company"]) == before
    # Ten more in a later release form their own group of eleven and appear together.
    add_comments(pulse, store, _comments("batch", 10), released=False)
    Answer.objects.filter(release__isnull=True).update(release=release)
    after = _texts(SYSTEM, pulse, org_tree["company"])
    assert len(after - before) == 11


def test_comment_order_says_nothing_about_submission_order(org_tree, pulse):
    add_comments(pulse, org_tree["stores"][0], _comments("ordered", 300))
    ids = list(readable_comments(SYSTEM, pulse).values_list("pk", flat=True))
    assert sorted(ids) != ids
    rho = stats.spearmanr(range(len(ids)), ids).statistic
    assert abs(rho) < 0.2
    assert ids == list(readable_comments(SYSTEM, pulse).values_list("pk", flat=True))


def test_comments_are_masked_and_a_search_cannot_confirm_an_address(org_tree):
    survey, _, _ = survey_with_comments()
    add_comments(survey, org_tree["stores"][0], [(3, "write to jane.doe@example.com please")])
    comments, total = comments_page(SYSTEM, survey)
    assert [comment.text for comment in comments] == ["write to [email] please"]
    assert comments_page(SYSTEM, survey, search="jane.doe")[1] == 0
    assert comments_page(SYSTEM, survey, search="write to")[1] == 1


def test_theme_runs_read_only_readable_comments(org_tree, pulse):
    n1, n2 = org_tree["stores"][:2]
    add_comments(pulse, n1, _comments("n1", 30))
    add_comments(pulse, n2, [(5, "secret tiny team complaint about parking")] * 5)
    run = ThemeRun.objects.create(survey=pulse, first_period="2026-01", last_period="2026-01")
    compute_theme_run(run.pk)
    run.refresh_from_db()
    assert run.comment_count == 30
    labels = " ".join(run.themes.values_list("label", flat=True))
    assert "parking" not in labels
    hidden = Answer.objects.filter(response__unit=n2, question__code="why")
    assert not run.assignments.filter(answer__in=hidden).exists()


def test_anonymous_survey_comments_carry_no_respondent(org_tree, pulse):
    add_comments(pulse, org_tree["stores"][0], _comments("anon", 10))
    assert not Response.objects.exclude(respondent_key="").exists()
    comments, _ = comments_page(SYSTEM, pulse)
    assert set(vars(comments[0])) == {"text", "theme", "sentiment"}
