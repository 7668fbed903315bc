"""Signals other apps listen to, so this bottom app never imports them."""

from django.dispatch import Signal

# Sent inside the transaction of `services.units.move_unit` with `unit` (the moved OrgUnit):
# stored values that roll up the tree (e.g. imported outcomes) must follow the new parent.
unit_moved = Signal()

# Sent inside the write's transaction with `survey`, `response_ids` and `contactable_ids`
# (those naming a customer: a respondent key or an invitation) when customer (not employee
# or anonymous) responses are stored, by the web, API and imports alike.
responses_submitted = Signal()

# Sent inside `services.erasure.erase_customer`'s transaction with `customer_keys` (customer
# ids and respondent keys) and `contact` (an address, or ""): apps keeping personal data of
# customers elsewhere erase theirs too.
customer_erased = Signal()
