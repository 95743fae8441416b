from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0018_registry_import")]

    operations: list = [
        migrations.AddField(
            model_name="assignment",
            name="end_reason",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AddField(
            model_name="assignment",
            name="end_note",
            field=models.CharField(blank=True, max_length=200),
        ),
    ]
