"""Signals other apps listen to, so this bottom app never imports them."""

from django.dispatch import Signal

# Sent inside the transaction of `services.units.move_unit` with `unit` (the moved OrgUnit):
# stored values that roll up the tree (e.g. imported outcomes) must follow the new parent.
unit_moved = Signal()
