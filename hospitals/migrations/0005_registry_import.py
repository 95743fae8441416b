from django.db import migrations, models


def codes_from_names(apps, schema_editor):
    """Existing hospitals take their name as their code (names are unique, so codes are too)."""
    Hospital = apps.get_model("hospitals", "Hospital")
    for hospital in Hospital.objects.all():
        hospital.code = hospital.name
        hospital.save(update_fields=["code"])


class Migration(migrations.Migration):
    dependencies = [("hospitals", "0004_fhir_https_and_sealed_secrets")]

    operations: list = [
        migrations.AddField(
            model_name="hospital",
            name="code",
            field=models.CharField(default="", max_length=120, verbose_name="code"),
            preserve_default=False,
        ),
        migrations.RunPython(codes_from_names, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="hospital",
            name="code",
            field=models.CharField(max_length=120, unique=True, verbose_name="code"),
        ),
    ]
