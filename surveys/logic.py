"""Question logic: a question is shown only when an earlier answer meets its condition
("show the reason question only for NPS 0–6": `show_if_question="nps"`, operator `lte`,
value `6`).

The server decides: `clean_answers` skips hidden questions (not required, their answers
dropped), so validation and scoring ignore them whatever the browser sent; the page's script
(static/js/question-logic.js) only hides them early. A condition may refer only to an
earlier question, so one pass in display order decides every question; a question whose
earlier question is hidden or unanswered is hidden too. `logic_problems` lists conditions
that cannot work (a later or missing question, a wrong operator or value); a survey with
any cannot be opened. No database access here: callers pass questions with their choices.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .models import Question

Operator = Question.Operator
LTE, GTE, EQ, NE, IN, ANSWERED = (
    Operator.LTE,
    Operator.GTE,
    Operator.EQ,
    Operator.NE,
    Operator.IN,
    Operator.ANSWERED,
)
NUMERIC_TYPES = frozenset(
    {
        Question.Type.NPS,
        Question.Type.CSAT,
        Question.Type.CES,
        Question.Type.LIKERT,
        Question.Type.RATING,
        Question.Type.NUMBER,
    }
)
# An answer as logic sees it: a number, a choice value, several choice values, or text.
Value = float | str | list[str]


@dataclass(frozen=True)
class Condition:
    question: str
    operator: str
    values: tuple[str, ...]


def condition_of(question: Question) -> Condition | None:
    if not question.show_if_question:
        return None
    raw = question.show_if_value or ""
    values = tuple(part.strip() for part in raw.split(",") if part.strip())
    return Condition(question.show_if_question, question.show_if_operator, values)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def is_met(condition: Condition, answer: Value | None) -> bool:
    """Whether an (already valid) answer meets the condition; no answer meets none."""
    if answer is None or answer == "" or answer == []:
        return False
    if condition.operator == ANSWERED:
        return True
    if isinstance(answer, list):  # multiple choice: any chosen value counts
        hits = set(answer) & set(condition.values)
        return not hits if condition.operator == NE else bool(hits)
    if isinstance(answer, float | int):
        targets = [number for number in map(_number, condition.values) if number is not None]
        return _compare(condition.operator, answer, targets)
    return _compare(condition.operator, answer, list(condition.values))


def _compare(operator: str, answer: Any, targets: list[Any]) -> bool:
    if not targets:
        return False
    if operator == LTE:
        return answer <= targets[0]
    if operator == GTE:
        return answer >= targets[0]
    if operator == EQ:
        return answer == targets[0]
    if operator == NE:
        return answer != targets[0]
    if operator == IN:
        return answer in targets
    return False


def is_shown(question: Question, shown_answers: Mapping[str, Value]) -> bool:
    """Shown when it has no condition, or its earlier question is shown and answered in a
    way that meets it. `shown_answers` holds the answers of the shown questions so far."""
    condition = condition_of(question)
    if condition is None:
        return True
    return is_met(condition, shown_answers.get(condition.question))


def logic_problems(
    questions: Sequence[Question], choice_values: Mapping[str, Iterable[str]]
) -> dict[str, list[str]]:
    """Conditions that cannot work, keyed by the code of the question that carries them.

    `questions` in display order; `choice_values` maps a choice question's code to its
    option values (a question missing from it is not checked for values).
    """
    position = {question.code: index for index, question in enumerate(questions)}
    problems: dict[str, list[str]] = {}
    for index, question in enumerate(questions):
        message = _problem(question, index, position, questions, choice_values)
        if message:
            problems.setdefault(question.code, []).append(message)
    return problems


def _problem(
    question: Question,
    index: int,
    position: Mapping[str, int],
    questions: Sequence[Question],
    choice_values: Mapping[str, Iterable[str]],
) -> str:
    condition = condition_of(question)
    if condition is None:
        if question.show_if_operator or question.show_if_value:
            return "Name the earlier question (its code) this question depends on."
        return ""
    target = condition.question
    if target not in position:
        return f"Its logic refers to question '{target}', which is not in the survey."
    if position[target] >= index:
        return (
            f"Its logic refers to question '{target}', which does not come before it; a "
            "question can only depend on an earlier one."
        )
    if condition.operator not in Operator.values:
        return "Choose how the earlier answer is compared."
    if condition.operator == ANSWERED:
        return ""
    if not condition.values:
        return "Give the value the earlier answer is compared with."
    return _value_problem(condition, questions[position[target]], choice_values)


def _value_problem(
    condition: Condition, source: Question, choice_values: Mapping[str, Iterable[str]]
) -> str:
    if source.type in NUMERIC_TYPES:
        if any(_number(value) is None for value in condition.values):
            return f"Compare '{source.code}' with numbers, e.g. 6 or 0,1,2."
        return ""
    if condition.operator in (LTE, GTE):
        return f"'{source.code}' is not a number; use is, is not, is one of or is answered."
    if source.type == Question.Type.TEXT:
        return f"'{source.code}' is open text; only 'is answered' can be tested."
    known = set(choice_values.get(source.code, ()))
    unknown = [value for value in condition.values if known and value not in known]
    if unknown:
        return f"'{', '.join(unknown)}' is not an option of '{source.code}'."
    return ""
