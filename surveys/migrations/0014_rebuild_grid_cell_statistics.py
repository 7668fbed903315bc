"""Drop the per-cell statistics of metrics with rows in a grid: they kept straight-liners of
the metric's own rows only, not the whole grid's counts. The next pass over a period without
stored statistics recomputes it from raw answers, which rebuilds them."""

from django.db import migrations


def drop_grid_statistics(apps, schema_editor):
    CellStatistics = apps.get_model("surveys", "CellStatistics")
    Question = apps.get_model("surveys", "Question")
    keys = Question.objects.exclude(grid="").exclude(metric_key="").values("metric_key")
    CellStatistics.objects.filter(metric__key__in=keys).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0013_cell_statistics_whole_grid_counts"),
    ]

    operations = [
        migrations.RunPython(drop_grid_statistics, migrations.RunPython.noop),
    ]
