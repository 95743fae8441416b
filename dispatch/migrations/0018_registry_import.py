import django.contrib.gis.db.models.fields
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dispatch", "0017_seats_and_handover"),
        ("fleet", "0005_unit_tracker_key"),
    ]

    operations: list = [
        migrations.CreateModel(
            name="District",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.CharField(max_length=20, unique=True, verbose_name="code")),
                ("name", models.CharField(max_length=60, verbose_name="name")),
                ("name_en", models.CharField(blank=True, max_length=120, verbose_name="English name")),
                (
                    "polygon",
                    django.contrib.gis.db.models.fields.MultiPolygonField(
                        srid=4326, verbose_name="district outline"
                    ),
                ),
            ],
            options={"verbose_name": "district", "verbose_name_plural": "districts", "ordering": ["code"]},
        ),
        migrations.AddField(
            model_name="place",
            name="ref",
            field=models.CharField(blank=True, max_length=60, verbose_name="reference"),
        ),
        migrations.AddConstraint(
            model_name="place",
            constraint=models.UniqueConstraint(
                condition=models.Q(("ref", ""), _negated=True), fields=("ref",), name="place_ref_unique"
            ),
        ),
        migrations.AddField(
            model_name="user",
            name="station",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="staff",
                to="fleet.station",
            ),
        ),
        # A station screen (role "station", 0015) needs its station: the field comes just above.
        migrations.AddConstraint(
            model_name="user",
            constraint=models.CheckConstraint(
                condition=models.Q(("role", "station"), _negated=True) | models.Q(station__isnull=False),
                name="station_screens_have_a_station",
            ),
        ),
    ]
