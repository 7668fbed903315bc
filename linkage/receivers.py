"""What this app does when `surveys` reports a change it must follow."""

from typing import Any

from .services.outcomes import refresh_outcome_roll_ups


def roll_up_outcomes_after_unit_move(sender: Any, **kwargs: Any) -> None:
    """A unit moved: imported outcomes of its old and new ancestors are rolled up again."""
    refresh_outcome_roll_ups()
