"""Every unit gets its own random tracker key: added empty, filled one unit at a time (a default
on AddField would give every existing row the same value), then made unique and required."""

from django.db import migrations, models

import fleet.models


def give_each_unit_a_key(apps, schema_editor) -> None:
    Unit = apps.get_model("fleet", "Unit")
    for unit in Unit.objects.filter(tracker_key__isnull=True).only("pk"):
        Unit.objects.filter(pk=unit.pk).update(tracker_key=fleet.models.new_tracker_key())


class Migration(migrations.Migration):
    dependencies = [
        ("fleet", "0004_unit_out_of_service"),
    ]

    operations = [
        migrations.AddField(
            model_name="unit",
            name="tracker_key",
            field=models.CharField(editable=False, max_length=64, null=True, verbose_name="tracker key"),
        ),
        migrations.RunPython(give_each_unit_a_key, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="unit",
            name="tracker_key",
            field=models.CharField(
                default=fleet.models.new_tracker_key,
                editable=False,
                max_length=64,
                unique=True,
                verbose_name="tracker key",
            ),
        ),
    ]
