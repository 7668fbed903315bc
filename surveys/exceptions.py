"""Domain errors raised by survey services; views and the API turn them into clear messages."""


class SurveyError(Exception):
    """Base class: `message` is safe to show to a respondent or API client."""

    status_code = 400

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.__doc__ or self.__class__.__name__)
        self.message = str(self.args[0])


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


class InvalidAnswers(SurveyError):
    """Some answers are missing or not valid."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("Some answers are missing or not valid.")
        self.errors = errors


class BulkInvalid(SurveyError):
    """Some rows of a bulk import are not valid; nothing was imported."""

    def __init__(self, errors: dict[int, dict[str, list[str]]]) -> None:
        super().__init__(f"{len(errors)} row(s) are not valid; nothing was imported.")
        # {row_index (0-based): {field or question code: [messages]}}
        self.errors = errors


class ImportTooLarge(SurveyError):
    """Too many rows for one import; split the rows into smaller batches."""

    status_code = 413


class SurveyHasNoQuestions(SurveyError):
    """A survey needs at least one question before it can open."""


class QuestionWithoutOptions(SurveyError):
    """A choice question needs options before its survey can open."""


class InvalidInvitationRequest(SurveyError):
    """The invitations could not be issued as asked; none were written.

    `field` names the input at fault ("count", "expires_in_days", "contacts") so a form can
    show the message next to it.
    """

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class InvalidContactRow(InvalidInvitationRequest):
    """One contacts row is not valid; `line` is its line in the uploaded file, `column` the
    bad value's column ("" for the whole row) and `index` the row's 0-based position."""

    def __init__(self, line: int, problem: str, *, column: str = "") -> None:
        super().__init__(f"Line {line}: {problem}", field="contacts")
        self.line = line
        self.column = column
        self.index: int | None = None


class UnknownTemplate(SurveyError):
    """There is no survey template with this key."""


class SlugTaken(SurveyError):
    """Another survey already uses this address (slug)."""
