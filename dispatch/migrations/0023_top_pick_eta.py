from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0022_call_backs")]

    operations: list = [
        migrations.AddField(
            model_name="assignment",
            name="top_pick_eta_s",
            field=models.FloatField(blank=True, null=True),
        ),
    ]
