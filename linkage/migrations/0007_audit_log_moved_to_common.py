"""The audit log now lives in `common` (state only: `common.0001` renamed the table)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("linkage", "0006_metric_store_moved_to_surveys"),
        ("common", "0001_audit_log_and_idempotency_records"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel("AuditEvent")]),
    ]
