"""`manage.py import_osm FILE.pbf [--dry-run] [--bbox W,S,E,N] [--admin-level 6]`: hospitals, the
gazetteer's places and address points, and districts from an OpenStreetMap extract
(dispatch/registry/osm.py). Progress on stderr, a summary on stdout; running it again updates
what changed and adds nothing twice."""

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from dispatch.models import User
from dispatch.registry.osm import (
    NOT_A_DESTINATION,
    PARTS,
    Box,
    ExtractError,
    Summary,
    load_extract,
    read_extract,
)


class Command(BaseCommand):
    help = (
        "Import hospitals (emergency departments where tagged), named places, POIs, address points "
        "and administrative boundaries (as districts) from an OpenStreetMap .osm.pbf extract, through "
        "the registry's actions (each record an event). Idempotent: records are keyed by OSM type and id."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the .osm.pbf file")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and count everything, write nothing"
        )
        parser.add_argument(
            "--bbox", help="only what lies in this box: west,south,east,north in degrees (WGS-84)"
        )
        parser.add_argument(
            "--admin-level",
            action="append",
            dest="admin_levels",
            help="boundary=administrative levels taken as districts (repeatable; default 6, 区/县 in China)",
        )
        parser.add_argument(
            "--all-hospitals",
            action="store_true",
            help="make every hospital a destination, not only those tagged with an emergency department "
            "(for maps that do not tag them); the others are gazetteer places either way",
        )
        parser.add_argument(
            "--only",
            action="append",
            choices=PARTS,
            help="import only these (repeatable): districts, hospitals (with their gazetteer entries), "
            "places",
        )
        parser.add_argument("--actor", help="the user name the events are recorded for (default: none)")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        try:
            box = Box.parse(options["bbox"]) if options["bbox"] else None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        actor = None
        if options["actor"]:
            actor = User.objects.filter(username=options["actor"]).first()
            if actor is None:
                raise CommandError(_("No user %(name)s.") % {"name": options["actor"]})
        quiet = options["verbosity"] == 0
        progress = None if quiet else self.progress
        try:
            extract = read_extract(
                Path(options["path"]),
                box=box,
                admin_levels=options["admin_levels"] or ["6"],
                progress=progress,
            )
        except ExtractError as exc:
            raise CommandError(str(exc)) from None
        if not quiet:
            self.stderr.write(
                _("read: %(h)d hospitals, %(p)d places and address points, %(d)d districts")
                % {"h": len(extract.hospitals), "p": len(extract.places), "d": len(extract.districts)}
            )
        summary = load_extract(
            extract,
            actor=actor,
            dry_run=options["dry_run"],
            all_hospitals=options["all_hospitals"],
            only=options["only"] or PARTS,
            progress=progress,
        )
        self.report(summary, extract.skipped, options["dry_run"], time.monotonic() - started)

    def progress(self, stage: str, done: int, total: int | None) -> None:
        line = f"{stage}: {done:,}" + (f"/{total:,}" if total else "")
        if self.stderr.isatty():
            self.stderr.write(f"\r{line}\x1b[K", ending="\n" if total and done >= total else "")
        else:
            self.stderr.write(line)
        self.stderr.flush()

    def report(self, summary: Summary, skipped: Any, dry_run: bool, seconds: float) -> None:
        head = _("Dry run: nothing was written.") if dry_run else _("Imported in %(s).1f s.") % {"s": seconds}
        self.stdout.write(head)
        for what, outcomes in summary.outcomes.items():
            counts = ", ".join(label % {"n": f"{outcomes[o]:,}"} for o, label in self.labels() if outcomes[o])
            self.stdout.write(f"  {what}: {counts}")
        for reason, count in sorted(skipped.items()):
            self.stdout.write("  " + _("skipped: %(count)d %(reason)s") % {"count": count, "reason": reason})
        for line in summary.refused:
            self.stdout.write("  " + _("refused %(line)s") % {"line": line})

    @staticmethod
    def labels() -> list[tuple[str, str]]:
        return [
            ("created", _("%(n)s new")),
            ("updated", _("%(n)s updated")),
            ("unchanged", _("%(n)s unchanged")),
            ("refused", _("%(n)s refused")),
            (NOT_A_DESTINATION, _("%(n)s without an emergency department (gazetteer places only)")),
        ]
