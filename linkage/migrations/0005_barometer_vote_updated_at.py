import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("linkage", "0004_linkage_result_within_q")]

    operations = [
        migrations.AddField(
            model_name="barometervote",
            name="updated_at",
            field=models.DateTimeField(
                auto_now=True,
                default=django.utils.timezone.now,
                help_text="When the vote was last cast.",
            ),
            preserve_default=False,
        ),
    ]
