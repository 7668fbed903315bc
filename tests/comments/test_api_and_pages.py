"""Comments API and pages: scope by unit, shapes, the low/high split against statsmodels."""

import numpy as np
import pytest
from django.urls import reverse
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

from comments.models import CommentTheme, ThemeRun
from comments.services import compute_theme_run
from tests.comments.helpers import add_comments, generated, survey_with_comments

pytestmark = pytest.mark.django_db


@pytest.fixture
def themed(org_tree):
    survey, _, _ = survey_with_comments()
    n1, n2, s1, _ = org_tree["stores"]
    for index, unit in enumerate((n1, n2, s1)):
        pairs, _ = generated(300, seed=10 + index)
        add_comments(survey, unit, pairs)
    add_comments(survey, s1, [(1, "only south knows about the broken freezer aisle")] * 3)
    run = ThemeRun.objects.create(survey=survey, first_period="2026-01", last_period="2026-01")
    compute_theme_run(run.pk)
    return survey, run


def _themes(client, survey, unit):
    url = reverse("comment-theme-list")
    return client.get(url, {"survey": survey.pk, "unit": unit})


def test_theme_split_matches_statsmodels_on_the_stored_assignments(api_client, leader, themed):
    survey, run = themed
    api_client.force_authenticate(leader)
    body = _themes(api_client, survey, "north").json()
    rows = CommentTheme.objects.filter(run=run, answer__response__unit__code__in=["n1", "n2"])
    scores = {a.answer.response_id: None for a in rows.select_related("answer")}
    numbers = dict(
        survey.questions.get(code="nps")
        .answers.filter(response_id__in=scores)
        .values_list("response_id", "number")
    )
    pairs = [
        (row.theme_id, numbers[row.answer.response_id]) for row in rows.select_related("answer")
    ]
    low = [theme for theme, score in pairs if score <= 6]
    high = [theme for theme, score in pairs if score >= 9]
    p_values, expected = [], {}
    for theme in body["themes"]:
        counts = np.array([low.count(theme["id"]), high.count(theme["id"])])
        z, p = proportions_ztest(counts, np.array([len(low), len(high)]))
        p_values.append(p)
        expected[theme["id"]] = (100 * counts[0] / len(low), 100 * counts[1] / len(high), p)
    q_values = multipletests(p_values, method="fdr_bh")[1]
    for theme, q in zip(body["themes"], q_values, strict=True):
        low_share, high_share, p = expected[theme["id"]]
        assert theme["low_share"] == pytest.approx(low_share, rel=1e-12)
        assert theme["high_share"] == pytest.approx(high_share, rel=1e-12)
        assert theme["p_value"] == pytest.approx(p, rel=1e-9)
        assert theme["q_value"] == pytest.approx(q, rel=1e-9)
    assert body["comments"] == 600
    assert body["separating"]
    top = next(t for t in body["themes"] if t["id"] == body["separating"][0])
    assert "detractors' comments vs" in top["sentence"]


def test_unit_manager_reads_only_their_units_comments(api_client, unit_member, themed):
    survey, _ = themed
    api_client.force_authenticate(unit_member)
    assert _themes(api_client, survey, "south").status_code == 404
    assert _themes(api_client, survey, "acme").status_code == 404
    body = _themes(api_client, survey, "north").json()
    examples = " ".join(" ".join(t["representatives"]) for t in body["themes"])
    assert "freezer" not in examples
    url = reverse("comment-list")
    found = api_client.get(url, {"survey": survey.pk, "unit": "north", "search": "freezer"})
    assert found.json()["count"] == 0


def test_comments_api_pages_masked_comments_without_time_or_respondent(api_client, leader, themed):
    survey, run = themed
    api_client.force_authenticate(leader)
    theme = run.themes.first()
    url = reverse("comment-list")
    body = api_client.get(
        url, {"survey": survey.pk, "unit": "acme", "theme": theme.pk, "limit": 5}
    ).json()
    assert body["count"] == CommentTheme.objects.filter(theme=theme).count()
    assert len(body["results"]) == 5
    assert all(set(item) == {"text", "theme", "sentiment"} for item in body["results"])
    assert all("@" not in item["text"] for item in body["results"])


@pytest.mark.parametrize(
    "params",
    [{"survey": "x", "unit": "acme"}, {"unit": "acme"}, {"survey": 1, "unit": "acme", "limit": 0}],
)
def test_comments_api_names_bad_parameters(api_client, leader, themed, params):
    api_client.force_authenticate(leader)
    response = api_client.get(reverse("comment-list"), params)
    assert response.status_code == 400


def test_outsider_gets_no_comment_themes(api_client, outsider, themed):
    survey, _ = themed
    api_client.force_authenticate(outsider)
    assert _themes(api_client, survey, "acme").status_code == 403


def test_themes_page_tells_what_separates_detractors_from_promoters(client, leader, themed):
    survey, _ = themed
    client.force_login(leader)
    page = client.get(reverse("comments:themes"), {"survey": survey.pk, "unit": "acme"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "What most separates detractors from promoters" in html
    assert "detractors&#x27; comments vs" in html or "detractors' comments vs" in html
    assert "style=" not in html and "<script>" not in html


def test_comments_page_searches_and_filters_by_theme(client, leader, themed):
    survey, run = themed
    client.force_login(leader)
    theme = run.themes.first()
    page = client.get(
        reverse("comments:list"), {"survey": survey.pk, "unit": "acme", "theme": theme.pk}
    )
    assert page.status_code == 200
    found = client.get(
        reverse("comments:list"), {"survey": survey.pk, "unit": "acme", "q": "freezer"}
    )
    assert "3 comments" in found.content.decode()


def test_comments_pages_refuse_outsiders_and_hide_other_units(
    client, outsider, unit_member, themed
):
    survey, _ = themed
    client.force_login(outsider)
    assert client.get(reverse("comments:themes")).status_code == 403
    client.force_login(unit_member)
    assert client.get(reverse("comments:themes"), {"unit": "s1"}).status_code == 404


def test_theme_api_narrows_to_a_period_range_of_the_run(api_client, leader, themed):
    survey, _ = themed
    api_client.force_authenticate(leader)
    url = reverse("comment-theme-list")
    params = {"survey": survey.pk, "unit": "acme"}
    everything = api_client.get(url, params).json()
    later = api_client.get(url, {**params, "first_period": "2026-02"}).json()
    assert everything["comments"] == 903
    assert later["comments"] == 0 and later["themes"] == []
    bad = api_client.get(url, {**params, "first_period": "2026-13"})
    assert bad.status_code == 400
