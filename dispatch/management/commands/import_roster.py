"""Import the roster (排班) from a CSV file (format: dispatch/roster/csvfile.py).

    python manage.py import_roster roster.csv [--dry-run]

Everything is checked first; any problem is reported with its line and nothing is written.
Each entry is written through the roster's action, so each is an event.
"""

from argparse import ArgumentParser
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from dispatch.core.actions import ActionError
from dispatch.roster.actions import RosterImportError, import_roster
from dispatch.roster.csvfile import read_roster_csv


class DryRun(Exception):
    pass


class Command(BaseCommand):
    help = "Import roster entries from a CSV file: all or nothing, every error with its line."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("path", help="CSV: call_sign,username,role,planned_start,planned_end")
        parser.add_argument("--dry-run", action="store_true", help="check everything, write nothing")

    def handle(self, *args, path: str, dry_run: bool = False, **options) -> None:
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"{path}: no such file.")
        try:
            rows = read_roster_csv(file.read_bytes())
            with transaction.atomic():
                entries = import_roster(rows, actor=None)
                if dry_run:
                    raise DryRun
        except DryRun:
            self.stdout.write(f"{file.name}: {len(rows)} entries checked, nothing written (dry run).")
            return
        except RosterImportError as refused:
            for line, message in refused.errors:
                self.stderr.write(f"{file.name}:{line}: {message}")
            raise CommandError(f"{file.name}: {len(refused.errors)} errors; nothing was written.") from None
        except ActionError as refused:
            raise CommandError(f"{file.name}: {refused.message} Nothing was written.") from None
        self.stdout.write(f"{file.name}: {len(entries)} roster entries written.")
