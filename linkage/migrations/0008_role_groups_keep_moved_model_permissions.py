"""Data migration: the Leadership and Analysts groups hold their permissions on the models that
moved to `surveys` and `common` (metrics, metric values, the audit log).

0002 grants them under their old app label. On a database created after the move no
permission carries that label, so 0002 skipped those grants without a word: leaders could
not read the metric catalogue and analysts could not edit it. Upgraded databases already
hold the grants (common 0002 relabelled them); adding them again changes nothing there.
"""

from django.db import migrations

GRANTS = {
    "Leadership": [
        ("surveys", "metric", "view"),
        ("surveys", "metricvalue", "view"),
        ("common", "auditevent", "view"),
    ],
    "Analysts": [
        ("surveys", "metric", "view"),
        ("surveys", "metric", "add"),
        ("surveys", "metric", "change"),
        ("surveys", "metricvalue", "view"),
        ("common", "auditevent", "view"),
    ],
}
VERBOSE_NAMES = {"metric": "metric", "metricvalue": "metric value", "auditevent": "audit event"}


def _permission(apps, app_label: str, model: str, action: str):
    """The permission, made now if the post-migrate step has not made it yet."""
    content_type, _ = apps.get_model("contenttypes", "ContentType").objects.get_or_create(
        app_label=app_label, model=model
    )
    permission, _ = apps.get_model("auth", "Permission").objects.get_or_create(
        content_type=content_type,
        codename=f"{action}_{model}",
        defaults={"name": f"Can {action} {VERBOSE_NAMES[model]}"},
    )
    return permission


def grant(apps, schema_editor) -> None:
    Group = apps.get_model("auth", "Group")
    for name, grants in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group is None:  # removed by an administrator: not brought back here
            continue
        group.permissions.add(*(_permission(apps, *item) for item in grants))


class Migration(migrations.Migration):
    dependencies = [
        ("linkage", "0007_audit_log_moved_to_common"),
        ("common", "0002_content_types_follow_moved_models"),
        ("surveys", "0003_idempotency_records_moved_to_common"),
    ]

    # Backwards the grants stay: on upgraded databases 0002 made them and they are wanted.
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
