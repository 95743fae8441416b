import django.contrib.gis.db.models.fields
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0025_casualty_notices"), ("fleet", "0007_standby_points")]

    operations: list = [
        migrations.CreateModel(
            name="MoveUp",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "from_position",
                    django.contrib.gis.db.models.fields.PointField(
                        blank=True, geography=True, null=True, srid=4326
                    ),
                ),
                ("uncovered_before", models.FloatField()),
                ("uncovered_after", models.FloatField()),
                ("district", models.CharField(blank=True, max_length=60)),
                ("eta_s", models.FloatField()),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("proposed", "Proposed"),
                            ("accepted", "Accepted"),
                            ("dismissed", "Dismissed"),
                            ("superseded", "Superseded"),
                            ("done", "Done"),
                            ("cancelled", "Cancelled"),
                        ],
                        default="proposed",
                        max_length=12,
                    ),
                ),
                ("proposed_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                ("ended_at", models.DateTimeField(blank=True, null=True)),
                ("end_reason", models.CharField(blank=True, max_length=120)),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "from_station",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="fleet.station",
                    ),
                ),
                (
                    "to_standby",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="move_ups",
                        to="fleet.standbypoint",
                    ),
                ),
                (
                    "to_station",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="fleet.station",
                    ),
                ),
                (
                    "unit",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="move_ups", to="fleet.unit"
                    ),
                ),
            ],
            options={
                "ordering": ["-proposed_at"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("to_standby__isnull", True), ("to_station__isnull", False)),
                            models.Q(("to_standby__isnull", False), ("to_station__isnull", True)),
                            _connector="OR",
                        ),
                        name="move_up_one_site",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("state", "proposed")),
                        fields=("state",),
                        name="one_proposed_move_up",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("state", "accepted")),
                        fields=("unit",),
                        name="one_move_up_per_unit",
                    ),
                ],
            },
        ),
    ]
