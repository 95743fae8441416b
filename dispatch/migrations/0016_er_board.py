import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dispatch", "0015_station_screens"),
        ("hospitals", "0004_fhir_https_and_sealed_secrets"),
    ]

    operations = [
        migrations.CreateModel(
            name="ErMessage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "direction",
                    models.CharField(
                        choices=[("to_er", "Crew to ER"), ("to_crew", "ER to crew")], max_length=10
                    ),
                ),
                ("text", models.CharField(max_length=500)),
                ("sent_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "hospital",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="hospitals.hospital"
                    ),
                ),
                (
                    "notice",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="er_messages",
                        to="dispatch.prearrivalnotice",
                    ),
                ),
                (
                    "sender",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["sent_at", "pk"],
                "indexes": [models.Index(fields=["notice", "sent_at"], name="er_message_notice_sent")],
            },
        ),
        migrations.CreateModel(
            name="NoticeWithdrawal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("revision", models.PositiveIntegerField()),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("redirected", "Redirected to another hospital"),
                            ("stood_down", "Unit stood down"),
                            ("not_transported", "Not transported"),
                        ],
                        max_length=20,
                    ),
                ),
                ("withdrawn_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("acknowledged_at", models.DateTimeField(blank=True, null=True)),
                (
                    "superseded_at",
                    models.DateTimeField(blank=True, help_text="the patient was sent back here", null=True),
                ),
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
                    "hospital",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="hospitals.hospital"
                    ),
                ),
                (
                    "notice",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="withdrawals",
                        to="dispatch.prearrivalnotice",
                    ),
                ),
                (
                    "redirected_to",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="hospitals.hospital",
                    ),
                ),
            ],
            options={
                "ordering": ["withdrawn_at", "pk"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("notice", "hospital", "revision"), name="one_withdrawal_per_notice_revision"
                    )
                ],
            },
        ),
    ]
