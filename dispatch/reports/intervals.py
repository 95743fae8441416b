"""The intervals a report measures, their targets, and the data-problem codes.

Each interval is also a column `report_<key>_ms` that PostgreSQL keeps on dispatch_incident
(migration 0008): milliseconds rounded up, NULL when a clock is missing, out of order or the
interval is over a day. `report_problems` holds one bit per problem; PROBLEMS decodes them.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Interval:
    key: str
    start: str  # Incident clock where the interval starts
    end: str
    label: Promise
    note: Promise

    @property
    def column(self) -> str:
        return f"report_{self.key}_ms"


# The order matters: bit i of report_problems is INTERVALS[i] (migration 0008).
INTERVALS: tuple[Interval, ...] = (
    Interval("answer", "call_received_at", "call_answered_at", _("Call answering"), _("ring to answer")),
    Interval(
        "processing",
        "call_answered_at",
        "dispatched_at",
        _("Call processing"),
        _("answer to unit dispatched"),
    ),
    Interval("turnout", "dispatched_at", "en_route_at", _("Turnout"), _("dispatch order to wheels rolling")),
    Interval(
        "departure",
        "call_answered_at",
        "en_route_at",
        _("Departure from call"),
        _("answer to wheels rolling"),
    ),
    Interval("travel", "en_route_at", "on_scene_at", _("Travel"), _("wheels rolling to on scene")),
    Interval("response", "call_received_at", "on_scene_at", _("Response"), _("call received to on scene")),
    Interval("on_scene", "on_scene_at", "transport_started_at", _("On scene"), _("on scene to transport")),
    Interval(
        "transport", "transport_started_at", "at_hospital_at", _("Transport"), _("transport to at hospital")
    ),
    Interval("handover", "at_hospital_at", "handover_at", _("Handover"), _("at hospital to handover")),
    Interval(
        "job_cycle", "dispatched_at", "unit_available_at", _("Job cycle"), _("dispatch to unit available")
    ),
)
BY_KEY = {interval.key: interval for interval in INTERVALS}

# The clocks in job order (migration 0008's CHAIN): bit 10 + j means CHAIN[j] is missing
# although a later clock is set.
CHAIN = (
    "call_received_at",
    "call_answered_at",
    "dispatched_at",
    "en_route_at",
    "on_scene_at",
    "transport_started_at",
    "at_hospital_at",
)
CLOCK_LABELS = {
    "call_received_at": _("call received"),
    "call_answered_at": _("call answered"),
    "created_at": _("incident created"),
    "location_confirmed_at": _("location confirmed"),
    "triaged_at": _("triage done"),
    "dispatched_at": _("unit dispatched"),
    "acknowledged_at": _("crew acknowledged"),
    "en_route_at": _("en route"),
    "on_scene_at": _("on scene"),
    "patient_contact_at": _("patient contact"),
    "transport_started_at": _("transport started"),
    "at_hospital_at": _("at hospital"),
    "handover_at": _("handover complete"),
    "unit_available_at": _("unit available"),
    "closed_at": _("incident closed"),
}


# Bit 17 (migration 0020): the unit reached the hospital, then cleared or the incident was closed,
# and the handover was never recorded.
UNFINISHED_HANDOVER_BIT = 1 << (len(INTERVALS) + len(CHAIN))


def missing_bit(clock: str) -> int:
    """The report_problems bit for this clock missing although a later one is set (0: none)."""
    return 1 << (len(INTERVALS) + CHAIN.index(clock)) if clock in CHAIN else 0


def unmeasurable_mask(interval: Interval) -> int:
    """The problem bits that make an incident unmeasurable for this interval although it should
    have it: its clocks out of order or over a day, its start or end clock missing while a
    later one is set, or (handover) a handover never completed. The reports count such an
    incident outside the interval's targets, so the worst delays cannot leave the denominator."""
    mask = 1 << INTERVALS.index(interval) | missing_bit(interval.start) | missing_bit(interval.end)
    return mask | (UNFINISHED_HANDOVER_BIT if interval.key == "handover" else 0)


def problems(bits: int) -> list[dict]:
    """The data problems one report_problems value stands for, each with a code and a message."""
    found = []
    for i, interval in enumerate(INTERVALS):
        if bits & (1 << i):
            found.append({"code": f"impossible_{interval.key}", "interval": interval.key})
    for j, clock in enumerate(CHAIN):
        if bits & (1 << (len(INTERVALS) + j)):
            found.append({"code": f"missing_{clock.removesuffix('_at')}", "clock": clock})
    if bits & UNFINISHED_HANDOVER_BIT:
        found.append({"code": "unfinished_handover"})
    return found


def problem_text(problem: dict) -> str:
    if problem["code"] == "unfinished_handover":
        return str(_("handover never completed: the unit cleared or the incident closed without it"))
    if "interval" in problem:
        interval = BY_KEY[problem["interval"]]
        return str(_("%(interval)s: %(end)s before %(start)s or over a day")) % {
            "interval": interval.label,
            "start": CLOCK_LABELS[interval.start],
            "end": CLOCK_LABELS[interval.end],
        }
    return str(_("%(clock)s missing although later times are set")) % {
        "clock": CLOCK_LABELS[problem["clock"]]
    }


@dataclass(frozen=True)
class Target:
    """'goal_pct % within within_s seconds'."""

    within_s: int
    goal_pct: float


def targets() -> dict[str, tuple[Target, ...]]:
    """Targets per interval: settings.REPORT_TARGETS, with REPORT_TARGETS_OVERRIDE on top.

    The override is `key=seconds:percent,seconds:percent;key=...`, e.g.
    `response=720:90;handover=900:65,1800:95,3600:100`; it replaces the named intervals' targets.
    """
    table = {key: tuple(Target(*pair) for pair in pairs) for key, pairs in settings.REPORT_TARGETS.items()}
    table.update(parse_override(getattr(settings, "REPORT_TARGETS_OVERRIDE", "")))
    return table


def parse_override(text: str) -> dict[str, tuple[Target, ...]]:
    table: dict[str, tuple[Target, ...]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, _sep, pairs = part.partition("=")
        if key.strip() not in BY_KEY:
            raise ValueError(f"REPORT_TARGETS_OVERRIDE: unknown interval {key.strip()!r}")
        try:
            table[key.strip()] = tuple(
                Target(int(within), float(goal))
                for within, goal in (pair.split(":") for pair in pairs.split(",") if pair.strip())
            )
        except ValueError as exc:
            raise ValueError(f"REPORT_TARGETS_OVERRIDE: {part!r} is not key=seconds:percent,...") from exc
    return table
