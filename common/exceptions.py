"""The base of every error a service raises on purpose.

A domain error carries its own HTTP meaning: `status_code`, an error `code` (by default the
class name in snake case) and a `message` that is safe to show. Subclasses that point at
inputs override `field_errors` or `item_errors`. The API's exception handler maps any
`DomainError` by these attributes alone, so a new domain error can never become a 500 by
being left out of a list.
"""

import re
from typing import ClassVar

_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")

FieldErrors = dict[str, list[str]]
ItemErrors = dict[str, FieldErrors]


class DomainError(Exception):
    """Base class of domain errors; the docstring of a subclass is its default message."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = ""

    def __init__(self, message: str = "") -> None:
        super().__init__(message or type(self).__doc__ or type(self).__name__)
        self.message = str(self.args[0])

    @property
    def error_code(self) -> str:
        """`code`, or the class name in snake case (SurveyClosed → survey_closed)."""
        return type(self).code or _CAMEL_BOUNDARY.sub("_", type(self).__name__).lower()

    def field_errors(self) -> FieldErrors:
        """Messages by input field (dotted names), shown next to the field."""
        return {}

    def item_errors(self) -> ItemErrors:
        """Messages by item of a bulk request (index or line), then by field."""
        return {}
