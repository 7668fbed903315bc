"""Metrics and metric values now live in `surveys` (state only: `surveys.0002` renamed the
tables); the links, runs, proposals, expectations and initiatives point at them there."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("linkage", "0005_barometer_vote_updated_at"),
        ("surveys", "0002_metric_store_moves_here"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='barometer',
                    name='metric',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='surveys.metric'),
                ),
                migrations.AlterField(
                    model_name='performanceexpectation',
                    name='metric',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='expectations', to='surveys.metric'),
                ),
                migrations.AlterField(
                    model_name='chainlink',
                    name='from_metric',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='links_out', to='surveys.metric'),
                ),
                migrations.AlterField(
                    model_name='linkageresult',
                    name='y_metric',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='surveys.metric'),
                ),
                migrations.AlterField(
                    model_name='chainlink',
                    name='to_metric',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='links_in', to='surveys.metric'),
                ),
                migrations.AlterField(
                    model_name='barometerproposal',
                    name='metric',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='surveys.metric'),
                ),
                migrations.AlterField(
                    model_name='linkageresult',
                    name='x_metric',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='surveys.metric'),
                ),
                migrations.AlterField(
                    model_name='initiative',
                    name='metrics',
                    field=models.ManyToManyField(blank=True, related_name='initiatives', to='surveys.metric'),
                ),
                migrations.DeleteModel(
                    name='MetricValue',
                ),
                migrations.DeleteModel(
                    name='Metric',
                ),
            ],
        ),
    ]
