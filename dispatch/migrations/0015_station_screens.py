from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0014_push_subscriptions")]

    # The station screen role (/station/). Its rule "a station screen has a station" is the
    # check constraint station_screens_have_a_station, added in 0018 right after User.station
    # (the one station field every user shares, created there).
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
                ],
                default="dispatcher",
                max_length=20,
                verbose_name="role",
            ),
        ),
    ]
