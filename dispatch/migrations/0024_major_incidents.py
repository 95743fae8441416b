import django.contrib.gis.db.models.fields
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    # Major incidents (群体伤): the declaration with its METHANE report, and casualties with START tags.

    dependencies = [
        ("dispatch", "0023_top_pick_eta"),
        ("fleet", "0006_roster"),
        ("hospitals", "0005_registry_import"),
    ]

    operations = [
        migrations.CreateModel(
            name="MajorIncident",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "level",
                    models.PositiveSmallIntegerField(
                        choices=[
                            (1, "Level I, extremely grave (特别重大)"),
                            (2, "Level II, grave (重大)"),
                            (3, "Level III, major (较大)"),
                            (4, "Level IV, general (一般)"),
                        ],
                        verbose_name="level",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[("active", "Active"), ("stood_down", "Stood down")],
                        default="active",
                        max_length=12,
                    ),
                ),
                ("declared_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("rule", models.CharField(blank=True, max_length=200)),
                (
                    "exact_location",
                    models.CharField(blank=True, max_length=300, verbose_name="exact location"),
                ),
                (
                    "incident_type",
                    models.CharField(blank=True, max_length=300, verbose_name="type of incident"),
                ),
                ("hazards", models.CharField(blank=True, max_length=500, verbose_name="hazards")),
                ("access", models.CharField(blank=True, max_length=500, verbose_name="access")),
                (
                    "casualties_reported",
                    models.PositiveIntegerField(blank=True, null=True, verbose_name="casualties reported"),
                ),
                (
                    "casualty_notes",
                    models.CharField(blank=True, max_length=300, verbose_name="casualty notes"),
                ),
                ("services", models.CharField(blank=True, max_length=300, verbose_name="emergency services")),
                ("sitrep_at", models.DateTimeField(blank=True, null=True)),
                (
                    "staging_point",
                    django.contrib.gis.db.models.fields.PointField(
                        blank=True, geography=True, null=True, srid=4326
                    ),
                ),
                (
                    "access_route",
                    django.contrib.gis.db.models.fields.LineStringField(
                        blank=True, geography=True, null=True, srid=4326
                    ),
                ),
                ("stood_down_at", models.DateTimeField(blank=True, null=True)),
                (
                    "command_unit",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="fleet.unit",
                    ),
                ),
                (
                    "declared_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "incident",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="major",
                        to="dispatch.incident",
                    ),
                ),
            ],
            options={
                "ordering": ["-declared_at"],
            },
        ),
        migrations.CreateModel(
            name="Casualty",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("tag_number", models.CharField(max_length=20, verbose_name="tag number")),
                ("client_id", models.CharField(blank=True, max_length=64, null=True, unique=True)),
                (
                    "tag",
                    models.CharField(
                        choices=[
                            ("red", "Red, immediate"),
                            ("yellow", "Yellow, delayed"),
                            ("green", "Green, minor"),
                            ("black", "Black, dead or expectant"),
                        ],
                        max_length=6,
                        verbose_name="triage tag",
                    ),
                ),
                (
                    "sex",
                    models.CharField(
                        blank=True, choices=[("M", "Male"), ("F", "Female")], max_length=1, verbose_name="sex"
                    ),
                ),
                (
                    "age_estimate",
                    models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="age (estimate)"),
                ),
                ("description", models.CharField(blank=True, max_length=300, verbose_name="injuries")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("at_scene", "At the scene"),
                            ("transporting", "In an ambulance"),
                            ("at_hospital", "At hospital"),
                        ],
                        default="at_scene",
                        max_length=12,
                    ),
                ),
                ("registered_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("tagged_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("transported_at", models.DateTimeField(blank=True, null=True)),
                ("arrived_at", models.DateTimeField(blank=True, null=True)),
                ("acknowledged_at", models.DateTimeField(blank=True, null=True)),
                (
                    "acknowledged_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "assignment",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="casualties",
                        to="dispatch.assignment",
                    ),
                ),
                (
                    "hospital",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="hospitals.hospital",
                    ),
                ),
                (
                    "registered_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "major",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="casualties",
                        to="dispatch.majorincident",
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "casualties",
                "ordering": ["registered_at", "pk"],
                "indexes": [models.Index(fields=["hospital", "status"], name="casualty_hospital_status")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("major", "tag_number"), name="one_tag_number_per_major_incident"
                    )
                ],
            },
        ),
    ]
