"""Data migration: the Leadership and Analysts groups with the permissions their work needs.

Leaders read every score and decide (barometer proposals and votes, performance expectations,
initiatives). Analysts read every score and run the evidence side (linkage runs, chain links,
metrics, outcome imports, initiatives). Audit events and barometer history are written by
services only, so both groups may only view them.
"""

from django.db import migrations

# Scores, not raw rows: individual responses of anonymous employee surveys stay out of reach.
READ_EVERYTHING = [("surveys", model) for model in ("orgunit", "survey", "question", "choice")] + [
    ("linkage", model)
    for model in (
        "metric",
        "metricvalue",
        "outcomeimport",
        "linkagerun",
        "linkageresult",
        "chainlink",
        "auditevent",
        "barometerproposal",
        "barometervote",
        "barometer",
        "performanceexpectation",
        "initiative",
    )
]

LEADERSHIP_WRITES = {
    "barometerproposal": ("add",),
    "barometervote": ("add",),
    "performanceexpectation": ("add", "change", "delete"),
    "initiative": ("add", "change"),
}
ANALYSTS_WRITES = {
    "linkagerun": ("add", "change"),
    "chainlink": ("add", "change"),
    "metric": ("add", "change"),
    "outcomeimport": ("add",),
    "initiative": ("add", "change"),
}


def _ensure_permissions(apps) -> None:
    """Permissions are normally created after all migrations; make them exist now."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None


def _codenames(writes: dict[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    wanted = [(app, f"view_{model}") for app, model in READ_EVERYTHING]
    wanted += [("linkage", f"{verb}_{model}") for model, verbs in writes.items() for verb in verbs]
    return wanted


def create_groups(apps, schema_editor) -> None:
    _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, writes in (("Leadership", LEADERSHIP_WRITES), ("Analysts", ANALYSTS_WRITES)):
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in _codenames(writes):
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:
                group.permissions.add(permission)


def remove_groups(apps, schema_editor) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=["Leadership", "Analysts"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("surveys", "0001_initial_survey_model"),
        ("linkage", "0001_initial_chain_model"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
