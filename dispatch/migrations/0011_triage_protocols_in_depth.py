"""The in-depth default protocols (24 complaint groups with pre-arrival instructions).

Re-runs the idempotent loader of 0005 on the current dispatch/triage/data/protocols.json: new
complaints and instructions are added and the shipped ones updated to the deeper versions. A
centre that had edited a shipped protocol gets the new default and makes its edit again in the
admin's protocol editor.
"""

import importlib

from django.db import migrations

load_defaults = importlib.import_module("dispatch.migrations.0005_default_triage_protocols").load_defaults


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0010_incident_details")]

    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
