"""Write paths for surveys and the metric store. Each public function is one action in one
transaction; one module per area: `submissions` (one response), `imports` (bulk responses),
`lifecycle` (open, close), `invitations`, `library` (surveys from templates), `units`
(moving a unit), `metrics` (the catalogue), `scores` (the dirty-cell protocol and
recomputes) and `webhooks` (signed deliveries). A test or script that replaces a name does so
in the module that uses it (e.g. ``surveys.services.scores.queue_recompute``).
"""

from .imports import MAX_IMPORT_ROWS, ImportResult, import_responses
from .invitations import MAX_EXPIRY_DAYS, MAX_INVITATIONS, issue_invitations
from .lifecycle import close_survey, open_survey
from .submissions import find_invitation, submit_response

__all__ = [
    "MAX_EXPIRY_DAYS",
    "MAX_IMPORT_ROWS",
    "MAX_INVITATIONS",
    "ImportResult",
    "close_survey",
    "find_invitation",
    "import_responses",
    "issue_invitations",
    "open_survey",
    "submit_response",
]
