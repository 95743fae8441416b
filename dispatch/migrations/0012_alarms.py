"""Alarms the console cannot miss (dispatch/alarms): one open per kind, incident and unit."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dispatch", "0011_triage_protocols_in_depth"),
        ("fleet", "0005_unit_tracker_key"),
    ]

    operations = [
        migrations.CreateModel(
            name="Alarm",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("notice_unacknowledged", "Hospital has not acknowledged the pre-arrival notice"),
                            ("unit_not_acknowledging", "Crew has not acknowledged the job"),
                            ("incident_undispatched_overdue", "Incident not dispatched in time"),
                            ("turnout_exceeded", "Unit not en route in time"),
                        ],
                        max_length=32,
                    ),
                ),
                ("detail", models.JSONField(blank=True, default=dict)),
                ("raised_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("acknowledged_at", models.DateTimeField(blank=True, null=True)),
                ("cleared_at", models.DateTimeField(blank=True, null=True)),
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
                        related_name="alarms",
                        to="dispatch.assignment",
                    ),
                ),
                (
                    "incident",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="alarms",
                        to="dispatch.incident",
                    ),
                ),
                (
                    "unit",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="fleet.unit",
                    ),
                ),
            ],
            options={
                "ordering": ["raised_at", "pk"],
                "indexes": [models.Index(fields=["cleared_at", "raised_at"], name="alarm_open_raised")],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("cleared_at__isnull", True), ("unit__isnull", False)),
                        fields=("kind", "incident", "unit"),
                        name="one_open_alarm_per_unit",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("cleared_at__isnull", True), ("unit__isnull", True)),
                        fields=("kind", "incident"),
                        name="one_open_alarm_per_incident",
                    ),
                ],
            },
        ),
    ]
