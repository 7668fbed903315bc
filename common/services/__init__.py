"""Write paths of the shared plumbing: the audit log and stored API results."""

from .audit import record_event
from .idempotency import delete_expired_records, store_result

__all__ = ["delete_expired_records", "record_event", "store_result"]
