"""Built-in definitions of the metrics the templates and the demo use.

A question's metric key that is not listed here still becomes a metric; its aggregation is
then inferred from the question type (see services.metrics.ensure_metrics_for_questions).
"""

from typing import Any

from .models import Metric

S = Metric.ChainStage
P = Metric.Perspective
L = Metric.Level
A = Metric.Aggregation
DOWN = Metric.Direction.LOWER_IS_BETTER


def _metric(name: str, aggregation: str, stage: int, perspective: str, level: str, **extra: Any):
    return {
        "name": name,
        "aggregation": aggregation,
        "chain_stage": stage,
        "perspective": perspective,
        "level": level,
        **extra,
    }


KNOWN_METRICS: dict[str, dict[str, Any]] = {
    # Customer listening
    "customer.nps": _metric(
        "Customer NPS", A.NPS, S.CUSTOMER_LOYALTY, P.CUSTOMER, L.TACTICAL, unit_label="pts"
    ),
    "customer.csat": _metric(
        "Customer satisfaction (CSAT, top-2-box)",
        A.TOP_BOX,
        S.CUSTOMER_SATISFACTION,
        P.CUSTOMER,
        L.TACTICAL,
        unit_label="%",
        top_box_min=4,
    ),
    "customer.ces": _metric(
        "Customer effort (CES, 1–7, high = easy)",
        A.MEAN,
        S.SERVICE_VALUE,
        P.CUSTOMER,
        L.TACTICAL,
        unit_label="/7",
    ),
    "cpi.goal_reached": _metric(
        "Customer goal reached (CPI)",
        A.RATE,
        S.SERVICE_VALUE,
        P.CUSTOMER,
        L.TACTICAL,
        unit_label="%",
    ),
    "cpi.goal_help": _metric(
        "Helped to reach the customer's goal (CPI, 1–5)",
        A.MEAN,
        S.SERVICE_VALUE,
        P.CUSTOMER,
        L.TACTICAL,
        unit_label="/5",
    ),
    "customer.delivery_complaint": _metric(
        "Delivery complaints (share of customers)",
        A.RATE,
        S.OPERATIONS,
        P.INTERNAL,
        L.OPERATIONAL,
        unit_label="%",
        direction=DOWN,
    ),
    # Employee listening
    "employee.enps": _metric(
        "Employee NPS (eNPS)", A.NPS, S.EMPLOYEE_LOYALTY, P.LEARNING, L.TACTICAL, unit_label="pts"
    ),
    "employee.job_satisfaction": _metric(
        "Job satisfaction (top-2-box)",
        A.TOP_BOX,
        S.EMPLOYEE_SATISFACTION,
        P.LEARNING,
        L.TACTICAL,
        unit_label="%",
        top_box_min=4,
    ),
    "employee.intent_to_stay": _metric(
        "Intent to stay (top-2-box)",
        A.TOP_BOX,
        S.EMPLOYEE_LOYALTY,
        P.LEARNING,
        L.TACTICAL,
        unit_label="%",
        top_box_min=4,
    ),
    "employee.enablement": _metric(
        "Enablement (top-2-box)",
        A.TOP_BOX,
        S.EMPLOYEE_PRODUCTIVITY,
        P.INTERNAL,
        L.OPERATIONAL,
        unit_label="%",
        top_box_min=4,
    ),
    # Leadership CX-competency self-assessment (1–5 agreement)
    "leadership.purposeful": _metric(
        "Purposeful leadership", A.MEAN, S.OPERATIONS, P.LEARNING, L.OPERATIONAL, unit_label="/5"
    ),
    "leadership.customer_understanding": _metric(
        "Customer understanding", A.MEAN, S.OPERATIONS, P.LEARNING, L.OPERATIONAL, unit_label="/5"
    ),
    "leadership.compelling_experience": _metric(
        "Compelling experience", A.MEAN, S.OPERATIONS, P.LEARNING, L.OPERATIONAL, unit_label="/5"
    ),
    "leadership.employee_engagement": _metric(
        "Employee engagement (leadership)",
        A.MEAN,
        S.OPERATIONS,
        P.LEARNING,
        L.OPERATIONAL,
        unit_label="/5",
    ),
    # Imported business outcomes
    "outcome.revenue": _metric(
        "Revenue",
        A.SUM,
        S.REVENUE_GROWTH,
        P.FINANCIAL,
        L.STRATEGIC,
        source=Metric.Source.OUTCOME,
        unit_label="$",
    ),
    "outcome.profit": _metric(
        "Profit",
        A.SUM,
        S.PROFITABILITY,
        P.FINANCIAL,
        L.STRATEGIC,
        source=Metric.Source.OUTCOME,
        unit_label="$",
    ),
    "outcome.retention_rate": _metric(
        "Customer retention rate",
        A.MEAN,
        S.CUSTOMER_LOYALTY,
        P.CUSTOMER,
        L.TACTICAL,
        source=Metric.Source.OUTCOME,
        unit_label="%",
    ),
    "outcome.repeat_purchase_rate": _metric(
        "Repeat purchase rate",
        A.MEAN,
        S.CUSTOMER_LOYALTY,
        P.CUSTOMER,
        L.TACTICAL,
        source=Metric.Source.OUTCOME,
        unit_label="%",
    ),
    "outcome.complaints": _metric(
        "Complaints",
        A.SUM,
        S.OPERATIONS,
        P.INTERNAL,
        L.OPERATIONAL,
        source=Metric.Source.OUTCOME,
        direction=DOWN,
    ),
    "outcome.employee_turnover": _metric(
        "Employee turnover",
        A.MEAN,
        S.EMPLOYEE_LOYALTY,
        P.LEARNING,
        L.OPERATIONAL,
        source=Metric.Source.OUTCOME,
        unit_label="%",
        direction=DOWN,
    ),
    "outcome.productivity": _metric(
        "Sales per labour hour",
        A.MEAN,
        S.EMPLOYEE_PRODUCTIVITY,
        P.INTERNAL,
        L.OPERATIONAL,
        source=Metric.Source.OUTCOME,
        unit_label="$/h",
    ),
}

# Default aggregation for a question type whose metric key is not in the catalogue.
AGGREGATION_FOR_QUESTION_TYPE = {
    "nps": (A.NPS, None),
    "csat": (A.TOP_BOX, 4),
    "likert": (A.TOP_BOX, 4),
    "ces": (A.MEAN, None),
    "rating": (A.MEAN, None),
    "number": (A.MEAN, None),
    "single": (A.RATE, None),
}
