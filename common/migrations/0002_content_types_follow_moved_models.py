"""Data migration: the content types of moved models take their new app's label, so every
permission granted on them (the Leadership and Analysts groups, single users) and every admin
log entry stays attached."""

from django.db import migrations

MOVED = [
    ("linkage", "surveys", "metric"),
    ("linkage", "surveys", "metricvalue"),
    ("linkage", "common", "auditevent"),
    ("surveys", "common", "idempotencyrecord"),
]


def _relabel(apps, moves) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for old_app, new_app, model in moves:
        old = ContentType.objects.filter(app_label=old_app, model=model).first()
        if old is None:
            continue
        # A type made for the new label before this ran holds no grants yet; the old one does.
        ContentType.objects.filter(app_label=new_app, model=model).delete()
        old.app_label = new_app
        old.save(update_fields=["app_label"])


def forward(apps, schema_editor) -> None:
    _relabel(apps, MOVED)


def backward(apps, schema_editor) -> None:
    _relabel(apps, [(new, old, model) for old, new, model in MOVED])


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("common", "0001_audit_log_and_idempotency_records"),
        ("linkage", "0007_audit_log_moved_to_common"),
        ("surveys", "0003_idempotency_records_moved_to_common"),
    ]

    operations = [migrations.RunPython(forward, backward)]
