"""The organisation tree: saving a unit, and moving one with everything that rolls up."""

from collections.abc import Iterable

from django.db import transaction

from common.broker import publish

from ..models import OrgUnit
from ..signals import unit_moved
from ..tasks import recompute_all_scores_task


@transaction.atomic
def save_unit(*, unit: OrgUnit, changed_fields: Iterable[str] = ()) -> OrgUnit:
    """Save an edit of `unit`; a new parent goes through `move_unit`."""
    if unit.pk and "parent" in set(changed_fields):
        return move_unit(unit=unit, parent=unit.parent)
    unit.save()
    return unit


@transaction.atomic
def move_unit(*, unit: OrgUnit, parent: OrgUnit | None) -> OrgUnit:
    """Put `unit` and its subtree below `parent` (None: a root).

    Paths and depths of the subtree change in one UPDATE. Every stored score rolls up the
    tree, so the old and the new ancestors' values are stale: survey scores are recomputed
    from raw answers after commit (a task), and `unit_moved` lets other apps refresh what
    they roll up (imported outcomes) in this transaction. Raises ValidationError for a
    parent inside the unit's own subtree.
    """
    unit.parent = parent
    unit.clean()
    unit.save()
    unit_moved.send(sender=OrgUnit, unit=unit)
    # Robust: the move stands if the broker is down; `recompute_scores` repairs it later.
    transaction.on_commit(lambda: publish(recompute_all_scores_task), robust=True)
    return unit
