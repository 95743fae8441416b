"""`manage.py import_roads PATH`: load a road network file into PostGIS and make it active.

Reads (city .co/.road-d/.road-t files or an OSM .pbf extract), validates, writes with COPY and
swaps the active network in one transaction: bad input ends with a clear message and the
network that routing uses stays as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fleet.roads.data import RoadData, RoadDataError
from fleet.roads.readers import read_city_files, read_osm_pbf
from fleet.roads.router import Router
from fleet.roads.store import hierarchy_cache_path, save_network


class ProgressBar:
    """A one-line text bar (`[#####-----]  50% writing arcs`) redrawn in place on a terminal;
    elsewhere one line per stage, so logs stay readable."""

    WIDTH = 30

    def __init__(self, write: Callable[[str], None], tty: bool, quiet: bool = False) -> None:
        self.write = write
        self.tty = tty
        self.quiet = quiet
        self.stage = ""
        self.shown_at = 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        new_stage = stage != self.stage
        if not self.tty:
            if new_stage:
                self.write(f"{stage}...\n")
            self.stage = stage
            return
        if not new_stage and fraction < 1.0 and now - self.shown_at < 0.1:
            return
        if new_stage and self.stage:
            self.write("\n")
        filled = int(round(fraction * self.WIDTH))
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.write(f"\r[{bar}] {fraction:4.0%} {stage}\x1b[K")
        self.stage, self.shown_at = stage, now

    def close(self) -> None:
        if self.tty and self.stage and not self.quiet:
            self.write("\n")
        self.stage = ""


def detect_format(path: Path) -> str:
    """`osm` for .osm.pbf / .pbf files, else `city`."""
    return "osm" if path.name.lower().endswith(".pbf") else "city"


class Command(BaseCommand):
    help = (
        "Import a road network and make it the active one. PATH is an OSM extract (.osm.pbf), "
        "the prefix or one file of a city's .co/.road-d/.road-t files, or a directory with "
        "--city."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="file, prefix or directory")
        parser.add_argument("--name", help="network name (default: the city or file name)")
        parser.add_argument(
            "--format", dest="file_format", choices=["city", "osm"], help="default: from the file name"
        )
        parser.add_argument("--city", help="city prefix inside a directory, e.g. Haikou")
        parser.add_argument("--demo", action="store_true", help="mark the network as demo data")
        parser.add_argument(
            "--no-activate", action="store_true", help="import only; keep the current active network"
        )
        parser.add_argument(
            "--no-warm",
            action="store_true",
            help="skip building the router's hierarchy cache now (app processes then build it)",
        )

    def handle(
        self,
        *args: str,
        path: str,
        name: str | None,
        file_format: str | None,
        city: str | None,
        demo: bool,
        no_activate: bool,
        no_warm: bool,
        verbosity: int,
        **options: object,
    ) -> None:
        source = Path(path)
        kind = file_format or detect_format(source)
        bar = ProgressBar(self._write_err, self.stderr.isatty(), quiet=verbosity == 0)
        started = time.monotonic()
        try:
            data = self._read(source, kind, city, bar)
            network = save_network(
                data,
                name=name or self._default_name(source, kind, city),
                source=str(source.resolve()),
                is_demo=demo,
                activate=not no_activate,
                progress=bar,
            )
        except RoadDataError as exc:
            bar.close()
            raise CommandError(f"road network not imported: {exc}") from exc
        if not no_warm:
            self._warm_router(data, network.pk, bar)
        bar.close()
        state = "active" if network.is_active else "not active"
        self.stdout.write(
            f"Imported road network {network.pk} '{network.name}': {network.vertex_count:,} "
            f"vertices, {network.arc_count:,} arcs ({state}) in {time.monotonic() - started:.1f} s"
        )

    @staticmethod
    def _warm_router(data: RoadData, network_id: int, bar: ProgressBar) -> None:
        """Build the router once now: compiles its kernels and caches the contraction
        hierarchy (seconds on a big city) so that app processes on this machine start fast."""
        bar("preparing the router", 0.0)
        Router.from_data(
            data,
            network_id=network_id,
            hierarchy="sync",
            cache_path=hierarchy_cache_path(network_id),
        )
        bar("preparing the router", 1.0)

    def _read(self, path: Path, kind: str, city: str | None, bar: ProgressBar) -> RoadData:
        if kind == "osm":
            return read_osm_pbf(path, progress=bar, notice=self._notice)
        return read_city_files(path, city, progress=bar)

    def _write_err(self, text: str) -> None:
        self.stderr.write(text, ending="")
        self.stderr.flush()

    def _notice(self, message: str) -> None:
        self.stderr.write(f"\nnote: {message}" if self.stderr.isatty() else f"note: {message}")

    @staticmethod
    def _default_name(path: Path, kind: str, city: str | None) -> str:
        if city:
            return city
        name = path.name
        for suffix in (".tar.gz", ".osm.pbf", ".pbf", ".co", ".road-d", ".road-t"):
            name = name.removesuffix(suffix)
        return name or str(path)
