"""Domain errors of the comments app (mapped to HTTP by `common.exceptions.DomainError`)."""

from common.exceptions import DomainError, FieldErrors


class InvalidThemeRun(DomainError):
    """These theme run settings are not valid."""

    def __init__(self, errors: FieldErrors) -> None:
        super().__init__()
        self.errors = errors

    def field_errors(self) -> FieldErrors:
        return self.errors


class ThemesNotMergeable(DomainError):
    """Themes can be merged only within one run, two or more at a time."""
