"""Write the centre's files: `manage.py export_centre <folder>`; import_centre reads them back
unchanged (docs/import-formats.md). Passwords are never written."""

from argparse import ArgumentParser
from pathlib import Path

from django.core.management.base import BaseCommand

from dispatch.registry.importer import export_files


class Command(BaseCommand):
    help = "Export stations, units, hospitals, places, districts and users as the files import_centre reads."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("folder", type=Path)

    def handle(self, *args: object, folder: Path, **options: object) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in export_files().items():
            (folder / name).write_bytes(data)
            rows = data.count(b"\r\n") - 1 if name.endswith(".csv") else data.count(b'"Feature"')
            self.stdout.write(f"  {folder / name}: {rows} rows")
        self.stdout.write(self.style.SUCCESS(f"Exported to {folder}"))
