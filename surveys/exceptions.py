"""Domain errors raised by survey services; each carries its HTTP meaning (`DomainError`), so
pages show its message and the API answers with its status, code and field errors."""

from collections.abc import Mapping

from common.exceptions import CappedItemErrors, DomainError, FieldErrors, ItemErrors

# Keys of a bulk row that are not question codes; any other key in a row error is an answer.
BULK_ROW_FIELDS = frozenset(
    {"unit", "respondent_key", "external_id", "language", "segment", "submitted_at", "answers"}
)


class SurveyError(DomainError):
    """Base class: `message` is safe to show to a respondent or API client."""


class SurveyClosed(SurveyError):
    """This survey is not accepting answers."""

    status_code = 410


class InvitationNotFound(SurveyError):
    """This invitation link is not valid. Please check the link in your message."""

    status_code = 404


class InvitationUsed(SurveyError):
    """This invitation has already been answered. Thank you!"""

    status_code = 409


class InvitationExpired(SurveyError):
    """This invitation has expired."""

    status_code = 410


class UnknownUnit(SurveyError):
    """The organisation unit is not known for this survey."""

    def field_errors(self) -> FieldErrors:
        return {"unit": [self.message]}


class InvalidAnswers(SurveyError):
    """Some answers are missing or not valid."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("Some answers are missing or not valid.")
        self.errors = errors

    def field_errors(self) -> FieldErrors:
        return {f"answers.{key}": list(messages) for key, messages in self.errors.items()}


class BulkInvalid(SurveyError):
    """Some rows of a bulk import are not valid; nothing was imported."""

    def __init__(self, errors: dict[int, dict[str, list[str]]] | CappedItemErrors) -> None:
        if not isinstance(errors, CappedItemErrors):
            capped = CappedItemErrors()
            for index, row_errors in errors.items():
                capped.add(index, row_errors)
            errors = capped
        message = f"{errors.items:,} row(s) are not valid; nothing was imported."
        if errors.omitted:
            message += f" The first {len(errors.shown)} are listed, the rest counted."
        super().__init__(message)
        # {row_index (0-based): {field or question code: [messages]}}, the first rows only
        self.errors = errors.shown
        self._omitted = errors.omitted

    def item_errors(self) -> ItemErrors:
        return {str(index): bulk_row_fields(errors) for index, errors in self.errors.items()}

    def omitted_items(self) -> dict[str, int]:
        return self._omitted


def bulk_row_fields(errors: Mapping[str, list[str]]) -> FieldErrors:
    """Row errors of `import_responses` with question codes named `answers.<code>`."""
    return {
        (key if key in BULK_ROW_FIELDS or key == "row" else f"answers.{key}"): list(messages)
        for key, messages in errors.items()
    }


class ImportTooLarge(SurveyError):
    """Too many rows for one import; split the rows into smaller batches."""

    status_code = 413


class SurveyHasNoQuestions(SurveyError):
    """A survey needs at least one question before it can open."""


class QuestionWithoutOptions(SurveyError):
    """A choice question needs options before its survey can open."""


class InvalidQuestionLogic(SurveyError):
    """A question's logic refers to a later or missing question, or cannot be evaluated."""

    def __init__(self, message: str, problems: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.problems = problems

    def field_errors(self) -> FieldErrors:
        return {f"questions.{code}": list(messages) for code, messages in self.problems.items()}


class InvalidInvitationRequest(SurveyError):
    """The invitations could not be issued as asked; none were written.

    `field` names the input at fault ("count", "expires_in_days", "contacts") so a form can
    show the message next to it.
    """

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field

    def field_errors(self) -> FieldErrors:
        return {self.field: [self.message]} if self.field else {}


class InvalidContactRow(InvalidInvitationRequest):
    """One contacts row is not valid; `line` is its line in the uploaded file, `column` the
    bad value's column ("" for the whole row) and `index` the row's 0-based position."""

    def __init__(self, line: int, problem: str, *, column: str = "") -> None:
        super().__init__(f"Line {line}: {problem}", field="contacts")
        self.line = line
        self.column = column
        self.index: int | None = None

    def field_errors(self) -> FieldErrors:
        """contacts.<index>.<column>, named like the serializer's errors of the same list."""
        parts = ["contacts"]
        if self.index is not None:
            parts.append(str(self.index))
        if self.column:
            parts.append(self.column)
        return {".".join(parts): [self.message]}


class UnknownTemplate(SurveyError):
    """There is no survey template with this key."""


class SlugTaken(SurveyError):
    """Another survey already uses this address (slug)."""


class RawExportRefused(SurveyError):
    """Individual responses of employee and anonymous surveys are never exported: a small
    group could be recognised from them. Export metric values instead
    (/api/v1/metric-values/export/), which hide groups below the anonymity threshold."""

    status_code = 403


class InvitationRequired(SurveyError):
    """This survey is answered through personal invitation links only. Please use the link
    in your invitation."""

    status_code = 403


class ConfidentialActionRefused(SurveyError):
    """Only an administrator may do this for an employee or anonymous survey: invitations
    and imported answers could otherwise be used to pad a small team and read its answers."""

    status_code = 403


class PeriodAlreadyReleased(SurveyError):
    """Results of this period were already released; answers can no longer be imported into
    it."""

    status_code = 409
