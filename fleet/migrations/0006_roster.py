# The roster (排班): planned shifts per unit and crew member, and supervisors' approvals to start
# a shift without one (docs/decisions/0017-roster.md).

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("fleet", "0005_unit_tracker_key"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ShiftApproval",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reason", models.CharField(max_length=200, verbose_name="reason")),
                ("approved_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("valid_until", models.DateTimeField(verbose_name="start before")),
                ("shift_until", models.DateTimeField(verbose_name="shift ends")),
                ("used_at", models.DateTimeField(blank=True, null=True)),
                (
                    "approved_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "unit",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="fleet.unit"
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"ordering": ["-approved_at"]},
        ),
        migrations.CreateModel(
            name="RosterEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "role",
                    models.CharField(
                        choices=[
                            ("doctor", "Doctor"),
                            ("nurse", "Nurse"),
                            ("driver", "Driver"),
                            ("stretcher", "Stretcher bearer"),
                        ],
                        default="doctor",
                        max_length=20,
                        verbose_name="crew role",
                    ),
                ),
                ("planned_start", models.DateTimeField(verbose_name="planned start")),
                ("planned_end", models.DateTimeField(verbose_name="planned end")),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("form", "Entered"),
                            ("week", "Week form"),
                            ("import", "Imported"),
                            ("approval", "Supervisor's approval"),
                        ],
                        default="form",
                        max_length=10,
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "unit",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="roster", to="fleet.unit"
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="roster",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["planned_start", "unit_id", "pk"],
                "indexes": [
                    models.Index(fields=["user", "unit", "planned_end"], name="roster_user_unit_end"),
                    models.Index(fields=["unit", "planned_start"], name="roster_unit_start"),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("planned_end__gt", models.F("planned_start"))),
                        name="roster_end_after_start",
                    )
                ],
            },
        ),
    ]
