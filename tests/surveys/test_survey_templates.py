import pytest
from django.db.models import Count

from surveys.answers import clean_answers
from surveys.catalogue import KNOWN_METRICS
from surveys.exceptions import SlugTaken, UnknownTemplate
from surveys.library import TEMPLATES
from surveys.models import Metric, MetricValue, Question, Survey
from surveys.selectors import questions_for
from surveys.services import open_survey, submit_response
from surveys.services.library import create_survey_from_template
from surveys.services.scores import recompute_all
from tests.factories import SurveyFactory

pytestmark = pytest.mark.django_db

# A metric key outside the catalogue is allowed only where a template says so on purpose.
METRIC_KEYS_OUTSIDE_CATALOGUE: set[str] = set()


def full_valid_answers(questions: list[Question]) -> dict:
    """An answer to every question, each at a legal value of its type."""
    answers: dict = {}
    for question in questions:
        values = [choice.value for choice in question.choices.all()]
        if question.type == Question.Type.TEXT:
            answers[question.code] = "Friendly and quick."
        elif question.type == Question.Type.SINGLE:
            answers[question.code] = values[0]
        elif question.type == Question.Type.MULTI:
            answers[question.code] = values[:2]
        else:
            answers[question.code] = question.bounds()[1]
    return answers


@pytest.mark.parametrize("template_key", sorted(TEMPLATES))
def test_create_survey_from_template_accepts_a_full_valid_answer_set(template_key):
    survey = create_survey_from_template(template_key=template_key)

    questions = questions_for(survey)
    cleaned, errors = clean_answers(questions, full_valid_answers(questions))
    assert survey.status == Survey.Status.DRAFT
    assert [q.code for q in questions] == [spec.code for spec in TEMPLATES[template_key].questions]
    assert errors == {}
    assert len(cleaned) == len(questions)
    for question in questions:
        if question.is_choice:
            assert question.choices.count() >= 2, question.code
        if question.type == Question.Type.RATING:
            question.full_clean()  # a rating needs its bounds


@pytest.mark.parametrize("template_key", sorted(TEMPLATES))
def test_create_survey_from_template_creates_catalogue_metrics(template_key):
    survey = create_survey_from_template(template_key=template_key)

    keys = set(survey.questions.exclude(metric_key="").values_list("metric_key", flat=True))
    assert keys, "every template feeds at least one metric"
    assert keys - set(KNOWN_METRICS) <= METRIC_KEYS_OUTSIDE_CATALOGUE
    assert set(Metric.objects.filter(key__in=keys).values_list("key", flat=True)) == keys


def test_create_survey_from_template_relationship_nps_names_the_company(org_tree):
    survey = create_survey_from_template(
        template_key="relationship_nps", root_unit=org_tree["north"]
    )

    nps = survey.questions.get(code="nps")
    assert nps.type == Question.Type.NPS
    assert nps.metric_key == "customer.nps"
    assert nps.text == ("How likely is it that you would recommend Acme to a friend or colleague?")
    assert survey.root_unit == org_tree["north"]
    assert survey.audience == Survey.Audience.CUSTOMER


def test_create_survey_from_template_employee_pulse_is_anonymous_with_threshold_5():
    survey = create_survey_from_template(template_key="employee_pulse")

    assert survey.audience == Survey.Audience.EMPLOYEE
    assert survey.anonymous is True
    assert survey.anonymity_threshold == 5
    keys = set(survey.questions.values_list("metric_key", flat=True))
    assert {
        "employee.enps",
        "employee.job_satisfaction",
        "employee.intent_to_stay",
        "employee.enablement",
    } <= keys
    assert survey.questions.get(code="comment").required is False


def test_create_survey_from_template_customer_goal_scores_yes_1_and_no_0():
    survey = create_survey_from_template(template_key="customer_goal")

    reached = survey.questions.get(metric_key="cpi.goal_reached")
    assert reached.type == Question.Type.SINGLE
    assert dict(reached.choices.values_list("value", "score")) == {"yes": 1.0, "no": 0.0}


def test_create_survey_from_template_customer_goal_scores_how_well_we_helped(org_tree):
    survey = create_survey_from_template(template_key="customer_goal")
    open_survey(survey=survey)
    store = org_tree["stores"][0]
    for helped in (5, 4, 2):
        submit_response(
            survey=survey, unit=store, answers={"goal_help": helped, "goal_reached": "yes"}
        )
    recompute_all()

    value = MetricValue.objects.get(
        metric__key=survey.questions.get(code="goal_help").metric_key, unit=store
    )
    assert value.metric.key.startswith("cpi.")
    assert value.metric.aggregation == Metric.Aggregation.MEAN
    assert value.n == 3 and value.value == pytest.approx(11 / 3, rel=1e-12)


def test_create_survey_from_template_customer_effort_uses_ces_scale():
    survey = create_survey_from_template(template_key="customer_effort")

    ces = survey.questions.get(metric_key="customer.ces")
    assert ces.type == Question.Type.CES
    assert ces.bounds() == (1, 7)
    assert ces.text == "The company made it easy for me to handle my issue."


def test_create_survey_from_template_leadership_groups_items_by_competency():
    survey = create_survey_from_template(template_key="leadership_self_assessment")

    assert survey.kind == Survey.Kind.ASSESSMENT
    assert survey.audience == Survey.Audience.EMPLOYEE
    grids: dict[str, set[str]] = {}
    for question in survey.questions.all():
        assert question.type == Question.Type.LIKERT
        assert question.metric_key.startswith("leadership.")
        grids.setdefault(question.grid, set()).add(question.metric_key)
    counts = dict(survey.questions.order_by().values_list("grid").annotate(n=Count("id")))
    assert set(grids) == {
        "purposeful_leadership",
        "customer_understanding",
        "compelling_experience",
        "employee_engagement",
    }
    assert all(len(keys) == 1 for keys in grids.values())  # one metric per competency
    assert all(2 <= n <= 3 for n in counts.values())


def test_create_survey_from_template_numbers_a_taken_slug():
    SurveyFactory(slug="transactional-csat")

    survey = create_survey_from_template(template_key="transactional_csat")

    assert survey.slug == "transactional-csat-2"
    assert survey.title == "Transactional CSAT"


def test_create_survey_from_template_rejects_a_taken_explicit_slug():
    SurveyFactory(slug="pulse")

    with pytest.raises(SlugTaken):
        create_survey_from_template(template_key="employee_pulse", slug="pulse")

    assert Survey.objects.count() == 1
    assert not Question.objects.exists()


def test_create_survey_from_template_rejects_an_unknown_template():
    with pytest.raises(UnknownTemplate):
        create_survey_from_template(template_key="no_such_template")

    assert not Survey.objects.exists()
