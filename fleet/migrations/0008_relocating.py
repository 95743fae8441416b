from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("fleet", "0007_standby_points")]

    operations: list = [
        migrations.AlterField(
            model_name="unit",
            name="status",
            field=models.CharField(
                choices=[
                    ("available", "Available"),
                    ("dispatched", "Dispatched"),
                    ("acknowledged", "Acknowledged"),
                    ("en_route", "En route"),
                    ("on_scene", "On scene"),
                    ("patient_contact", "Patient contact"),
                    ("transporting", "Transporting"),
                    ("at_hospital", "At hospital"),
                    ("returning", "Returning"),
                    ("relocating", "Relocating"),
                    ("out_of_service", "Out of service"),
                ],
                default="available",
                max_length=20,
                verbose_name="status",
            ),
        ),
    ]
