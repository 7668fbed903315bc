"""The base of every error a service raises on purpose.

A domain error carries its own HTTP meaning: `status_code`, an error `code` (by default the
class name in snake case) and a `message` that is safe to show. Subclasses that point at
inputs override `field_errors` or `item_errors`. The API's exception handler maps any
`DomainError` by these attributes alone, so a new domain error can never become a 500 by
being left out of a list.
"""

import re
from collections.abc import Mapping
from typing import ClassVar

_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")

FieldErrors = dict[str, list[str]]
ItemErrors = dict[str, FieldErrors]

# A bulk request lists the errors of its first items in detail and only counts the rest: a
# 10,000-row request with 150 bad values per row would otherwise answer with 1.5 million
# messages (tens of MB, built in memory).
MAX_ITEMS_SHOWN = 100
MAX_FIELDS_SHOWN = 20


class CappedItemErrors:
    """Errors by item, collected one item at a time: the first MAX_ITEMS_SHOWN items keep
    their first MAX_FIELDS_SHOWN fields' messages, everything is counted."""

    def __init__(self, items: int = MAX_ITEMS_SHOWN, fields: int = MAX_FIELDS_SHOWN) -> None:
        self.limit_items, self.limit_fields = items, fields
        self.shown: dict[int, dict[str, list[str]]] = {}
        self.items = 0  # items with an error
        self.messages = 0  # messages, shown or not

    def add(self, index: int, errors: Mapping[str, list[str]]) -> None:
        self.items += 1
        self.messages += sum(len(messages) for messages in errors.values())
        if len(self.shown) < self.limit_items:
            kept = list(errors.items())[: self.limit_fields]
            self.shown[index] = {key: list(messages) for key, messages in kept}

    @property
    def omitted(self) -> dict[str, int]:
        """Counts of what is not listed ({} when everything is)."""
        shown = sum(len(messages) for errors in self.shown.values() for messages in errors.values())
        if self.items == len(self.shown) and self.messages == shown:
            return {}
        return {"items": self.items - len(self.shown), "messages": self.messages - shown}

    def __bool__(self) -> bool:
        return self.items > 0

    def __len__(self) -> int:
        return self.items


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

    def omitted_items(self) -> dict[str, int]:
        """Counts of item errors not listed in `item_errors` (items, messages); {} if none."""
        return {}
