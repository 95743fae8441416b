"""Load a centre from its files: `manage.py import_centre <folder or files> [--dry-run]`.

The files and their columns are in docs/import-formats.md. Everything is checked first and every
problem reported with its file, line and column; with any problem nothing is written.
"""

import time
from argparse import ArgumentParser
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from dispatch.registry.importer import files_in, import_files

BAR_WIDTH = 30
BAR_FROM_ROWS = 200  # shorter files are done before a bar is worth drawing


class ProgressBar:
    """One line per file on stderr, redrawn in place (a terminal) at most every 1 %."""

    def __init__(self, stream: OutputWrapper) -> None:
        self.stream = stream
        self.shown: tuple[str, int] = ("", -1)

    def __call__(self, name: str, done: int, total: int) -> None:
        if total < BAR_FROM_ROWS:
            return
        percent = done * 100 // total
        if (name, percent) == self.shown:
            return
        self.shown = (name, percent)
        filled = BAR_WIDTH * done // total
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        end = "\n" if done == total else ""
        self.stream.write(f"\r  {name:<18} [{bar}] {percent:3d}% {done}/{total}{end}", ending="")
        self.stream.flush()


class Command(BaseCommand):
    help = (
        "Import a centre's stations, units, hospitals, places, districts and users from CSV and "
        "GeoJSON files or a folder of them (docs/import-formats.md). Checks everything first; "
        "writes nothing if anything is wrong. Running it again updates, never duplicates."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, help="a folder, files, or a zip")
        parser.add_argument("--dry-run", action="store_true", help="check and report; write nothing")

    def handle(self, *args: object, paths: list[Path], dry_run: bool, **options: object) -> None:
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise CommandError(f"No such file or folder: {', '.join(missing)}")
        files = files_in(paths)
        if not files:
            raise CommandError(
                "No centre files found (stations.csv, units.csv, ...: docs/import-formats.md)."
            )
        started = time.monotonic()
        self.stdout.write(f"Reading {len(files)} files: {', '.join(name for name, _ in files)}")
        report = import_files(files, dry_run=dry_run, progress=ProgressBar(self.stderr))
        for line in report.lines()[:-1]:
            self.stdout.write(f"  {line}")
        last = f"{report.lines()[-1]} ({time.monotonic() - started:.1f} s)"
        if not report.ok:
            raise CommandError(last)
        self.stdout.write(self.style.SUCCESS(last))
