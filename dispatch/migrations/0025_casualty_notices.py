import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0024_major_incidents")]

    operations: list = [
        migrations.CreateModel(
            name="CasualtyNotice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("version", models.PositiveIntegerField(default=1)),
                ("first_sent_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("sent_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("injuries", models.CharField(blank=True, max_length=500, verbose_name="injuries")),
                ("chips", models.JSONField(blank=True, default=list)),
                ("heart_rate", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("systolic_bp", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("diastolic_bp", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("spo2", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("respiratory_rate", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("gcs", models.PositiveSmallIntegerField(blank=True, null=True)),
                (
                    "assignment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="dispatch.assignment",
                    ),
                ),
                (
                    "casualty",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="notice",
                        to="dispatch.casualty",
                    ),
                ),
                (
                    "sent_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            (f"{name}__isnull", True),
                            models.Q((f"{name}__gte", low), (f"{name}__lte", high)),
                            _connector="OR",
                        ),
                        name=f"casualty_notice_{name}_in_range",
                    )
                    for name, low, high in (
                        ("heart_rate", 0, 300),
                        ("systolic_bp", 20, 300),
                        ("diastolic_bp", 10, 200),
                        ("spo2", 30, 100),
                        ("respiratory_rate", 0, 80),
                        ("gcs", 3, 15),
                    )
                ],
            },
        ),
    ]
