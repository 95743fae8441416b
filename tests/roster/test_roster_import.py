"""`manage.py import_roster file.csv`: every row written through the roster's action (an event
each), or, on any error, every error reported with its line and nothing written."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from dispatch.models import Event, Role, User
from fleet.models import RosterEntry

GOOD = """call_sign,username,role,planned_start,planned_end
T-ALS-1,carol,doctor,2026-12-07 08:00,2026-12-07 20:00
T-ALS-1,zhao,driver,2026-12-07 08:00,2026-12-07 20:00

T-BLS-1,carol,nurse,2026-12-07 20:00,2026-12-08 08:00
"""

BAD = """call_sign,username,role,planned_start,planned_end
T-ALS-1,carol,doctor,2026-12-07 08:00,2026-12-07 20:00
T-XXX-9,carol,doctor,2026-12-08 08:00,2026-12-08 20:00
T-ALS-2,nobody,doctor,2026-12-08 08:00,2026-12-08 20:00
T-ALS-2,zhao,pilot,2026-12-08 08:00,2026-12-08 20:00
T-ALS-2,zhao,doctor,明天早上,2026-12-08 20:00
T-BLS-1,carol,nurse,2026-12-07 19:00,2026-12-08 07:00
T-BLS-1,alice,doctor,2026-12-09 08:00,2026-12-09 20:00
T-BLS-1,zhao,doctor,2026-12-09 20:00,2026-12-09 08:00
"""


def write(tmp_path: Path, text: str, name: str = "roster.csv", bom: bool = False) -> str:
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode())
    return str(path)


@pytest.fixture
def zhao(world):
    return User.objects.create_user("zhao", role=Role.CREW)


def test_a_good_file_writes_every_entry_with_an_event(world, zhao, tmp_path):
    out = StringIO()
    before = RosterEntry.objects.count()
    call_command("import_roster", write(tmp_path, GOOD, bom=True), stdout=out)
    assert "3 roster entries written" in out.getvalue()
    entries = RosterEntry.objects.filter(source="import").order_by("planned_start", "user__username")
    assert [(e.unit.call_sign, e.user.username, e.role) for e in entries] == [
        ("T-ALS-1", "carol", "doctor"),
        ("T-ALS-1", "zhao", "driver"),
        ("T-BLS-1", "carol", "nurse"),
    ]
    assert entries[0].planned_start.isoformat() == "2026-12-07T00:00:00+00:00"  # 08:00 in Asia/Shanghai
    assert RosterEntry.objects.count() == before + 3
    assert Event.objects.filter(kind="roster.added", data__source="import").count() == 3


def test_a_file_with_errors_reports_each_line_and_writes_nothing(world, zhao, tmp_path):
    entries, events = RosterEntry.objects.count(), Event.objects.count()
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_roster", write(tmp_path, BAD, name="bad.csv"), stderr=err)
    lines = err.getvalue().splitlines()
    # Lines 4, 5 and 6 fail while reading (role, time); the rest when checked against the database.
    assert [line.split(":")[1] for line in lines] == ["5", "6"]
    assert "pilot" in lines[0] and "明天早上" in lines[1]
    assert RosterEntry.objects.count() == entries and Event.objects.count() == events


def test_rows_refused_against_the_database_are_reported_with_their_lines(world, zhao, tmp_path):
    readable = "\n".join(line for n, line in enumerate(BAD.splitlines(), 1) if n not in (5, 6)) + "\n"
    entries, events = RosterEntry.objects.count(), Event.objects.count()
    err = StringIO()
    with pytest.raises(CommandError, match="5 errors; nothing was written"):
        call_command("import_roster", write(tmp_path, readable), stderr=err)
    found = {int(line.split(":")[1]): line for line in err.getvalue().splitlines()}
    assert sorted(found) == [3, 4, 5, 6, 7]
    assert "T-XXX-9" in found[3] and "nobody" in found[4]
    assert "已排在 T-ALS-1" in found[5]  # overlaps line 2 of the same file (words in Chinese first)
    assert "alice" in found[6] and "必须晚于计划开始" in found[7]
    assert RosterEntry.objects.count() == entries and Event.objects.count() == events


def test_missing_columns_and_a_dry_run(world, zhao, tmp_path):
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_roster", write(tmp_path, "call_sign,username\nT-ALS-1,carol\n"), stderr=err)
    assert ":1: " in err.getvalue() and "planned_start" in err.getvalue()
    out = StringIO()
    entries = RosterEntry.objects.count()
    call_command("import_roster", write(tmp_path, GOOD), "--dry-run", stdout=out)
    assert "3 entries checked, nothing written" in out.getvalue()
    assert RosterEntry.objects.count() == entries
