"""The roster's CSV file, as a centre prepares it in a spreadsheet:

    call_sign,username,role,planned_start,planned_end
    A-01,zhang.wei,doctor,2026-12-07 08:00,2026-12-07 20:00

Times are in the centre's time zone (TIME_ZONE) unless they carry an offset; role is one of
doctor, nurse, driver, stretcher (empty: doctor). UTF-8, with or without the byte-order mark a
spreadsheet writes. Every problem is reported with its line number (the header is line 1).
"""

import csv
import io
from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from dispatch.roster.actions import ImportRow, RosterImportError
from fleet.models import CrewRole

COLUMNS = ["call_sign", "username", "role", "planned_start", "planned_end"]
MAX_ROWS = 20000


def parse_time(text: str) -> datetime | None:
    try:
        value = parse_datetime(text.strip().replace("/", "-"))
    except ValueError:
        return None
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def read_roster_csv(data: bytes) -> list[ImportRow]:
    """The file's rows, or RosterImportError with every problem found and its line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RosterImportError([(1, _("The file is not UTF-8 text: save it as CSV UTF-8."))]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in next(reader, [])]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise RosterImportError([(1, _("Missing columns: %(names)s.") % {"names": ", ".join(missing)})])
    at = {name: header.index(name) for name in COLUMNS}
    rows: list[ImportRow] = []
    errors: list[tuple[int, str]] = []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(rows) + len(errors) >= MAX_ROWS:
            errors.append((line, _("More than %(n)d rows: split the file.") % {"n": MAX_ROWS}))
            break
        cell = {name: (values[i].strip() if i < len(values) else "") for name, i in at.items()}
        problems = []
        if not cell["call_sign"]:
            problems.append(_("call_sign is empty."))
        if not cell["username"]:
            problems.append(_("username is empty."))
        role = cell["role"].lower() or CrewRole.DOCTOR
        if role not in CrewRole.values:
            problems.append(_("Unknown crew role %(role)s.") % {"role": cell["role"]})
        start, end = parse_time(cell["planned_start"]), parse_time(cell["planned_end"])
        for name, value in (("planned_start", start), ("planned_end", end)):
            if value is None:
                problems.append(
                    _("%(column)s %(value)s is not a date and time (2026-12-07 08:00).")
                    % {"column": name, "value": cell[name] or '""'}
                )
        if problems or start is None or end is None:
            errors.append((line, " ".join(problems)))
            continue
        rows.append(ImportRow(line, cell["call_sign"], cell["username"], role, start, end))
    if errors:
        raise RosterImportError(errors)
    return rows
