"""The metric store moves from `linkage` to `surveys`, which scoring writes and everything
reads. The tables are renamed, never recreated: every row is kept."""

import django.db.models.deletion
from django.db import migrations, models

RENAMES = [("linkage_metric", "surveys_metric"), ("linkage_metricvalue", "surveys_metricvalue")]


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0001_initial_survey_model"),
        ("linkage", "0005_barometer_vote_updated_at"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f"ALTER TABLE {old} RENAME TO {new}", f"ALTER TABLE {new} RENAME TO {old}"
                )
                for old, new in RENAMES
            ],
            state_operations=[
                migrations.CreateModel(
                    name='Metric',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('key', models.CharField(help_text='e.g. customer.nps', max_length=80, unique=True)),
                        ('name', models.CharField(max_length=200)),
                        ('description', models.TextField(blank=True)),
                        ('source', models.CharField(choices=[('survey', 'Survey question'), ('outcome', 'Imported outcome')], default='survey', max_length=10)),
                        ('aggregation', models.CharField(choices=[('nps', 'Net score (promoters − detractors)'), ('top_box', 'Top-box share'), ('mean', 'Mean'), ('sum', 'Sum'), ('rate', 'Rate (share of yes / 1)')], max_length=10)),
                        ('direction', models.CharField(choices=[('up', 'Higher is better'), ('down', 'Lower is better')], default='up', max_length=4)),
                        ('chain_stage', models.PositiveSmallIntegerField(choices=[(0, 'Operations'), (1, 'Employee satisfaction'), (2, 'Employee loyalty'), (3, 'Employee productivity'), (4, 'Service value'), (5, 'Customer satisfaction'), (6, 'Customer loyalty'), (7, 'Revenue growth'), (8, 'Profitability')], default=0)),
                        ('perspective', models.CharField(choices=[('financial', 'Financial'), ('customer', 'Customer'), ('internal', 'Internal process'), ('learning', 'Learning & growth')], default='customer', max_length=10)),
                        ('level', models.CharField(choices=[('strategic', 'Strategic (business results)'), ('tactical', 'Tactical (outcomes)'), ('operational', 'Operational (indicators)')], default='tactical', max_length=12)),
                        ('unit_label', models.CharField(blank=True, help_text='e.g. "pts", "%", "$"', max_length=20)),
                        ('top_box_min', models.FloatField(blank=True, help_text='Top-box threshold, e.g. 4 on a 1–5 scale.', null=True)),
                    ],
                    options={
                        'ordering': ['chain_stage', 'key'],
                    },
                ),
                migrations.CreateModel(
                    name='MetricValue',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('period', models.CharField(max_length=7)),
                        ('value', models.FloatField(blank=True, null=True)),
                        ('n', models.PositiveIntegerField(default=0)),
                        ('ci_low', models.FloatField(blank=True, null=True)),
                        ('ci_high', models.FloatField(blank=True, null=True)),
                        ('suppressed', models.BooleanField(default=False)),
                        ('source', models.CharField(choices=[('computed', 'Computed from answers'), ('imported', 'Imported')], default='computed', max_length=10)),
                        ('details', models.JSONField(blank=True, default=dict)),
                        ('computed_at', models.DateTimeField(auto_now=True)),
                        ('metric', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='values', to='surveys.metric')),
                        ('unit', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='metric_values', to='surveys.orgunit')),
                    ],
                ),
                migrations.AddIndex(
                    model_name='metricvalue',
                    index=models.Index(fields=['unit', 'period'], name='metricvalue_unit_period'),
                ),
                migrations.AddIndex(
                    model_name='metricvalue',
                    index=models.Index(fields=['metric', 'period'], name='metricvalue_metric_period'),
                ),
                migrations.AddConstraint(
                    model_name='metricvalue',
                    constraint=models.UniqueConstraint(fields=('metric', 'unit', 'period'), name='one_value_per_metric_unit_period'),
                ),
                migrations.AddConstraint(
                    model_name='metricvalue',
                    constraint=models.CheckConstraint(condition=models.Q(('suppressed', False), ('value__isnull', True), _connector='OR'), name='suppressed_value_is_empty'),
                ),
            ],
        ),
    ]
