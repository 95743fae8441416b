from django.db import migrations


def create_counter(apps, schema_editor) -> None:
    apps.get_model("dispatch", "EventCounter").objects.get_or_create(id=1, defaults={"last_seq": 0})


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0002_initial")]

    operations = [migrations.RunPython(create_counter, migrations.RunPython.noop)]
