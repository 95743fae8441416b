from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0020_reports_calls")]

    # The wallboard screen role (大屏, /wallboard/): the centre's figures and nothing else.
    operations: list = [
        migrations.AlterField(
            model_name="user",
            name="role",
            field=models.CharField(
                choices=[
                    ("dispatcher", "Dispatcher"),
                    ("supervisor", "Supervisor"),
                    ("crew", "Ambulance crew"),
                    ("hospital", "Hospital staff"),
                    ("admin", "Administrator"),
                    ("station", "Station screen"),
                    ("wallboard", "Wallboard screen"),
                ],
                default="dispatcher",
                max_length=20,
                verbose_name="role",
            ),
        ),
    ]
