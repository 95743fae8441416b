import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0021_wallboard")]

    operations: list = [
        migrations.CreateModel(
            name="CallBack",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("seat", models.CharField(blank=True, max_length=40)),
                ("provider", models.CharField(max_length=20)),
                ("provider_call_id", models.CharField(blank=True, max_length=64)),
                ("to_number", models.CharField(max_length=32)),
                ("placed_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "outcome",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("reached", "Reached the caller"),
                            ("no_answer", "No answer"),
                            ("wrong_number", "Wrong number"),
                            ("not_needed", "No help needed"),
                        ],
                        max_length=12,
                    ),
                ),
                ("outcome_at", models.DateTimeField(blank=True, null=True)),
                (
                    "by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "call",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="callbacks",
                        to="dispatch.call",
                    ),
                ),
            ],
            options={
                "ordering": ["placed_at", "pk"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("outcome", "")),
                        fields=("call",),
                        name="one_open_call_back_per_call",
                    )
                ],
            },
        ),
    ]
