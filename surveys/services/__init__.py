"""Write paths for surveys. Each public function is one action in one transaction.

One module per area: `submissions` (one response, and marking its scores for recompute),
`imports` (bulk responses), `lifecycle` (open and close) and `invitations`. Every name stays
importable from ``surveys.services``; a test or script that replaces a name must do so in the
module that uses it (e.g. ``surveys.services.submissions.queue_recompute``).
"""

from .imports import _META_MAX_LENGTHS as _META_MAX_LENGTHS
from .imports import _RESPONSE_COLUMNS as _RESPONSE_COLUMNS
from .imports import _SEGMENT_AT as _SEGMENT_AT
from .imports import (
    CLOCK_SKEW,
    EARLIEST_SUBMISSION,
    MAX_IMPORT_ROWS,
    ImportResult,
    import_responses,
)
from .imports import RowErrors as RowErrors
from .imports import _ExternalIds as _ExternalIds
from .imports import _insert_answers as _insert_answers
from .imports import _insert_responses as _insert_responses
from .imports import _link_chosen_options as _link_chosen_options
from .imports import _prepare_rows as _prepare_rows
from .imports import _row_answers as _row_answers
from .imports import _row_meta as _row_meta
from .imports import _row_unit as _row_unit
from .imports import _stored_external_ids as _stored_external_ids
from .imports import _units_by_code as _units_by_code
from .imports import _write_bulk as _write_bulk
from .invitations import _CONTACT_MAX_LENGTH as _CONTACT_MAX_LENGTH
from .invitations import _CUSTOMER_ID_MAX_LENGTH as _CUSTOMER_ID_MAX_LENGTH
from .invitations import _PHONE_NUMBER as _PHONE_NUMBER
from .invitations import _SEGMENT_KEY as _SEGMENT_KEY
from .invitations import MAX_EXPIRY_DAYS, MAX_INVITATIONS, issue_invitations
from .invitations import _check_contact as _check_contact
from .invitations import _check_count as _check_count
from .invitations import _contact_fields as _contact_fields
from .invitations import _expiry as _expiry
from .invitations import _invitation_rows as _invitation_rows
from .invitations import _parse_segment as _parse_segment
from .lifecycle import _check_answerable as _check_answerable
from .lifecycle import close_survey, open_survey
from .submissions import _check_unit as _check_unit
from .submissions import _claim_invitation as _claim_invitation
from .submissions import _mark_dirty as _mark_dirty
from .submissions import _mark_dirty_and_queue as _mark_dirty_and_queue
from .submissions import _response_fields as _response_fields
from .submissions import _write_answers as _write_answers
from .submissions import (
    find_invitation,
    mark_scores_dirty,
    questions_for,
    queue_recompute,
    submit_response,
)
from .submissions import logger as logger

__all__ = [
    "CLOCK_SKEW",
    "EARLIEST_SUBMISSION",
    "MAX_EXPIRY_DAYS",
    "MAX_IMPORT_ROWS",
    "MAX_INVITATIONS",
    "ImportResult",
    "close_survey",
    "find_invitation",
    "import_responses",
    "issue_invitations",
    "mark_scores_dirty",
    "open_survey",
    "queue_recompute",
    "questions_for",
    "submit_response",
]
