"""Domain errors raised by linkage services; each carries its HTTP meaning (`DomainError`), so
admin pages show its message and the API answers with its status, code and field errors."""

from django.core.exceptions import PermissionDenied

from common.exceptions import DomainError, FieldErrors


class LinkageError(DomainError):
    """Base class: `message` is safe to show to a leader or API client."""


class _FieldsError(LinkageError):
    """An error about several inputs; `errors` maps a field name to its messages."""

    def __init__(self, errors: FieldErrors) -> None:
        self.errors = errors
        super().__init__(" ".join(message for lines in errors.values() for message in lines))

    def field_errors(self) -> FieldErrors:
        return {field: list(messages) for field, messages in self.errors.items()}


class InvalidLinkageRun(_FieldsError):
    """The settings of a linkage run are not valid; nothing was started.

    `errors` maps a field name (level, first_period, last_period, metric_keys, max_lag) to
    messages that are safe to show next to that field.
    """

    code = "invalid"


class ExpectationInvalid(_FieldsError):
    """The expectation is incomplete; `errors` maps form field names to messages."""

    code = "invalid"


class InvalidChainLink(LinkageError):
    """An edit of a chain link was refused; nothing was changed."""


class InitiativeError(LinkageError):
    """The initiative cannot move this way; `message` says why."""


class BarometerError(LinkageError):
    """Base class of barometer errors: `message` is safe to show to a leader."""


class InvalidProposal(BarometerError):
    """The proposal is not complete."""


class ProposalClosed(BarometerError):
    """This proposal has already been decided or withdrawn; it takes no more votes."""


class BarometerConflict(BarometerError):
    """Another barometer was agreed at the same moment. Nothing was changed and this proposal
    stays open: reload the page and vote again if it should replace the new barometer."""

    status_code = 409


class NotALeader(LinkageError, PermissionDenied):
    """Only members of the Leadership group may propose or vote on the barometer."""

    status_code = 403
