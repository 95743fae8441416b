"""The default triage protocols and caller instructions from dispatch/triage/data/protocols.json.

Idempotent (update_or_create on code), so it can also be re-run by hand or by tests after a
database flush. Reversing keeps the rows: an admin may have edited them since.
"""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "triage" / "data" / "protocols.json"

INSTRUCTION_FIELDS = ("title", "title_en", "steps", "steps_en", "cpr")
PROTOCOL_FIELDS = ("name", "name_en", "keywords", "order", "questions")


def load_defaults(apps, schema_editor) -> None:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    CallerInstruction = apps.get_model("dispatch", "CallerInstruction")
    TriageProtocol = apps.get_model("dispatch", "TriageProtocol")
    for row in data["instructions"]:
        CallerInstruction.objects.update_or_create(
            code=row["code"], defaults={f: row[f] for f in INSTRUCTION_FIELDS}
        )
    for row in data["protocols"]:
        defaults = {f: row[f] for f in PROTOCOL_FIELDS}
        defaults["active"] = row.get("active", True)
        TriageProtocol.objects.update_or_create(code=row["code"], defaults=defaults)


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0004_triage_protocols")]

    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
