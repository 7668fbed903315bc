"""The survey template library: ready-made surveys as plain data (`services.library` copies one
into a new draft survey).

Each template's questions feed the metric keys of `surveys.catalogue`, so answers to a survey
made from a template are scored and linked along the service-profit chain without setup.
"""

from dataclasses import dataclass

from .models import Question, Survey

QT = Question.Type


@dataclass(frozen=True)
class ChoiceSpec:
    value: str
    label: str
    score: float | None = None


@dataclass(frozen=True)
class QuestionSpec:
    """One question; `text` may contain "{company}", filled in when the survey is created."""

    code: str
    type: str
    text: str
    metric_key: str = ""
    required: bool = True
    help_text: str = ""
    min_value: float | None = None
    max_value: float | None = None
    low_label: str = ""
    high_label: str = ""
    grid: str = ""
    choices: tuple[ChoiceSpec, ...] = ()


@dataclass(frozen=True)
class SurveyTemplate:
    key: str
    title: str
    description: str
    audience: str
    kind: str
    questions: tuple[QuestionSpec, ...]
    intro: str = ""
    anonymous: bool = False
    anonymity_threshold: int = 0


def _comment(code: str = "comment", text: str = "Is there anything else you would like to add?"):
    return QuestionSpec(code=code, type=QT.TEXT, text=text, required=False)


_EXPERIENCE_ASPECTS = (
    ChoiceSpec("staff", "Friendliness of the staff"),
    ChoiceSpec("speed", "Speed of service"),
    ChoiceSpec("knowledge", "Knowledge and advice"),
    ChoiceSpec("product", "Product or service quality"),
    ChoiceSpec("price", "Price and value"),
    ChoiceSpec("ease", "Ease of the process"),
)

RELATIONSHIP_NPS = SurveyTemplate(
    key="relationship_nps",
    title="Relationship NPS",
    description="Net Promoter Score with its reason and overall satisfaction.",
    audience=Survey.Audience.CUSTOMER,
    kind=Survey.Kind.RELATIONSHIP,
    questions=(
        QuestionSpec(
            code="nps",
            type=QT.NPS,
            text="How likely is it that you would recommend {company} to a friend or colleague?",
            metric_key="customer.nps",
        ),
        _comment("nps_reason", "What is the most important reason for your score?"),
        QuestionSpec(
            code="csat_overall",
            type=QT.CSAT,
            text="Overall, how satisfied are you with {company}?",
            metric_key="customer.csat",
        ),
    ),
)

TRANSACTIONAL_CSAT = SurveyTemplate(
    key="transactional_csat",
    title="Transactional CSAT",
    description="Satisfaction with one recent interaction, what went well and what did not.",
    audience=Survey.Audience.CUSTOMER,
    kind=Survey.Kind.TRANSACTIONAL,
    questions=(
        QuestionSpec(
            code="csat",
            type=QT.CSAT,
            text="How satisfied were you with your recent experience with {company}?",
            metric_key="customer.csat",
        ),
        QuestionSpec(
            code="went_well",
            type=QT.MULTI,
            text="What went well?",
            required=False,
            choices=_EXPERIENCE_ASPECTS,
        ),
        QuestionSpec(
            code="went_badly",
            type=QT.MULTI,
            text="What could have gone better?",
            required=False,
            choices=_EXPERIENCE_ASPECTS,
        ),
        _comment(),
    ),
)

CUSTOMER_EFFORT = SurveyTemplate(
    key="customer_effort",
    title="Customer effort (CES 2.0)",
    description="How easy it was to get an issue handled, on the 1–7 CES 2.0 agreement scale.",
    audience=Survey.Audience.CUSTOMER,
    kind=Survey.Kind.TRANSACTIONAL,
    questions=(
        QuestionSpec(
            code="ces",
            type=QT.CES,
            text="The company made it easy for me to handle my issue.",
            metric_key="customer.ces",
        ),
        _comment(text="What could have made it easier?"),
    ),
)

CUSTOMER_GOAL = SurveyTemplate(
    key="customer_goal",
    title="Customer goal (CPI)",
    description="Customer performance indicators: did the customer achieve what they came for?",
    audience=Survey.Audience.CUSTOMER,
    kind=Survey.Kind.TRANSACTIONAL,
    questions=(
        QuestionSpec(
            code="goal_help",
            type=QT.RATING,
            text="How well did we help you achieve what you came for?",
            metric_key="cpi.goal_help",
            min_value=1,
            max_value=5,
            low_label="Not at all well",
            high_label="Extremely well",
        ),
        QuestionSpec(
            code="goal_reached",
            type=QT.SINGLE,
            text="Did we help you achieve what you came for?",
            metric_key="cpi.goal_reached",
            choices=(ChoiceSpec("yes", "Yes", 1), ChoiceSpec("no", "No", 0)),
        ),
        _comment(text="What else could we have done for you?"),
    ),
)

EMPLOYEE_PULSE = SurveyTemplate(
    key="employee_pulse",
    title="Employee pulse",
    description="Anonymous eNPS, job satisfaction, intent to stay and enablement.",
    audience=Survey.Audience.EMPLOYEE,
    kind=Survey.Kind.PULSE,
    anonymous=True,
    anonymity_threshold=5,
    intro="Your answers are anonymous. Results are only shown for groups of 5 or more.",
    questions=(
        QuestionSpec(
            code="enps",
            type=QT.NPS,
            text="How likely is it that you would recommend {company} as a place to work?",
            metric_key="employee.enps",
        ),
        QuestionSpec(
            code="job_satisfaction",
            type=QT.LIKERT,
            text="Overall, I am satisfied with my job.",
            metric_key="employee.job_satisfaction",
        ),
        QuestionSpec(
            code="intent_to_stay",
            type=QT.LIKERT,
            text="I see myself still working here a year from now.",
            metric_key="employee.intent_to_stay",
        ),
        QuestionSpec(
            code="enablement",
            type=QT.LIKERT,
            text="I have the tools and resources to serve customers well.",
            metric_key="employee.enablement",
        ),
        _comment(text="Is there anything else you would like to tell us?"),
    ),
)


def _competency(grid: str, metric_key: str, items: tuple[str, ...]) -> tuple[QuestionSpec, ...]:
    """1–5 agreement items of one leadership competency, shown together as one grid."""
    return tuple(
        QuestionSpec(
            code=f"{grid}_{number}", type=QT.LIKERT, text=text, metric_key=metric_key, grid=grid
        )
        for number, text in enumerate(items, start=1)
    )


LEADERSHIP_SELF_ASSESSMENT = SurveyTemplate(
    key="leadership_self_assessment",
    title="Leadership CX self-assessment",
    description="Leaders rate their own customer-experience competencies (1–5 agreement).",
    audience=Survey.Audience.EMPLOYEE,
    kind=Survey.Kind.ASSESSMENT,
    intro="Rate how far each statement describes how you lead today.",
    questions=(
        *_competency(
            "purposeful_leadership",
            "leadership.purposeful",
            (
                "I explain to my team how our work makes a difference for customers.",
                "My decisions put customers first, even when that costs in the short term.",
                "I show my team what a great customer experience looks like.",
            ),
        ),
        *_competency(
            "customer_understanding",
            "leadership.customer_understanding",
            (
                "I review customer feedback regularly and act on it.",
                "I spend time with customers or listen to their conversations first-hand.",
                "I know what our customers are trying to achieve when they come to us.",
            ),
        ),
        *_competency(
            "compelling_experience",
            "leadership.compelling_experience",
            (
                "I make sure our processes follow the customer's journey, not our structure.",
                "I remove obstacles that make things hard for customers.",
                "I encourage my team to try new ways of delighting customers.",
            ),
        ),
        *_competency(
            "employee_engagement",
            "leadership.employee_engagement",
            (
                "I recognise team members who deliver great customer experiences.",
                "I give my team the training and authority to solve customer problems.",
                "I ask my team for ideas and act on them.",
            ),
        ),
    ),
)

TEMPLATES: dict[str, SurveyTemplate] = {
    template.key: template
    for template in (
        RELATIONSHIP_NPS,
        TRANSACTIONAL_CSAT,
        CUSTOMER_EFFORT,
        CUSTOMER_GOAL,
        EMPLOYEE_PULSE,
        LEADERSHIP_SELF_ASSESSMENT,
    )
}


def template_choices() -> list[tuple[str, str]]:
    """(key, label) pairs for a select box, in library order."""
    return [
        (key, f"{template.title} — {template.description}") for key, template in TEMPLATES.items()
    ]
