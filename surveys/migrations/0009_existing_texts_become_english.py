from django.db import migrations
from django.db.models import F

TEXTS = {
    "Survey": ("title", "intro"),
    "Question": ("text", "help_text", "low_label", "high_label"),
    "Choice": ("label",),
}


def copy_to_english(apps, schema_editor):
    """Texts written before translations existed are the English ones."""
    for model_name, fields in TEXTS.items():
        model = apps.get_model("surveys", model_name)
        model.objects.update(**{f"{field}_en": F(field) for field in fields})


class Migration(migrations.Migration):
    dependencies = [("surveys", "0008_survey_texts_per_language")]

    operations = [migrations.RunPython(copy_to_english, migrations.RunPython.noop)]
