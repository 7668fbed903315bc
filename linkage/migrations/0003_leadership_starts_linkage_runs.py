"""Data migration: leaders may start linkage runs in the admin, as they already may in the API.

A leader chooses the level, period range, metrics and lag of a run and reviews its evidence;
0002 gave that write to Analysts only, so the admin's start page refused every leader.
"""

from django.db import migrations

GROUP, CODENAME = "Leadership", "add_linkagerun"


def _group_and_permission(apps):
    group = apps.get_model("auth", "Group").objects.filter(name=GROUP).first()
    permission = (
        apps.get_model("auth", "Permission")
        .objects.filter(content_type__app_label="linkage", codename=CODENAME)
        .first()
    )
    return group, permission


def grant(apps, schema_editor) -> None:
    group, permission = _group_and_permission(apps)
    if group is not None and permission is not None:
        group.permissions.add(permission)


def revoke(apps, schema_editor) -> None:
    group, permission = _group_and_permission(apps)
    if group is not None and permission is not None:
        group.permissions.remove(permission)


class Migration(migrations.Migration):
    dependencies = [("linkage", "0002_leadership_and_analyst_groups")]

    operations = [migrations.RunPython(grant, revoke)]
