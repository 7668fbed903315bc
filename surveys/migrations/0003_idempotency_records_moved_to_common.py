"""Stored API results now live in `common` (state only: `common.0001` renamed the table)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0002_metric_store_moves_here"),
        ("common", "0001_audit_log_and_idempotency_records"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel("IdempotencyRecord")]
        ),
    ]
