"""Domain errors of distribution services (mapped to 400s and form errors like all others)."""

from common.exceptions import DomainError

MAX_LINE_ERRORS = 50


class DistributionError(DomainError):
    """Base class: `message` is safe to show."""


class InvalidContactFile(DistributionError):
    """The contacts file has errors; nothing was imported."""

    def __init__(self, errors: list[tuple[int, str]], total: int | None = None) -> None:
        self.errors = errors[:MAX_LINE_ERRORS]
        self.total = total if total is not None else len(errors)
        lines = "; ".join(f"line {line}: {text}" for line, text in self.errors)
        more = self.total - len(self.errors)
        suffix = f" (and {more} more)" if more > 0 else ""
        super().__init__(f"Nothing was imported. {lines}{suffix}")

    def item_errors(self) -> dict[str, dict[str, list[str]]]:
        return {str(line): {"line": [text]} for line, text in self.errors}


class InvalidSchedule(DistributionError):
    """The schedule is not valid."""


class CaseClosed(DistributionError):
    """This case is closed."""

    status_code = 409


class InvalidCaseUpdate(DistributionError):
    """The case update is not valid."""
