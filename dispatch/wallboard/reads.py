"""The wallboard's figures: today's from the reports' functions, and what is live now.

No patient, caller, address or complaint: a wallboard may hang where visitors pass.
"""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Min, Q
from django.utils import timezone

from dispatch.alarms.reads import open_alarms
from dispatch.models import AlarmKind, Call, CallStatus
from dispatch.reports import ReportFilter, response_by_priority, summary
from dispatch.reports.filters import local_midnight
from fleet.models import Station, UnitStatus
from hospitals.models import DiversionCategory, Hospital

# The targets the board shows (docs/targets.md): answered within 10 s, rolling within 3 minutes.
ANSWER_WITHIN_S = 10
DEPARTURE_WITHIN_S = 180
# A call "ringing" for longer than this lost its end callback (dispatch.reports.calls).
RINGING_AT_MOST = timedelta(days=1)
FREE = (UnitStatus.AVAILABLE, UnitStatus.RETURNING, UnitStatus.RELOCATING)


def today(now: datetime) -> ReportFilter:
    """The local day `now` falls in, as the reports take it."""
    day = timezone.localdate(now)
    return ReportFilter(local_midnight(day), local_midnight(day + timedelta(days=1)))


def target(interval: dict, within_s: int) -> dict | None:
    """The interval's figures against the target of this many seconds (None without one)."""
    return next((t for t in interval["targets"] if t["within_s"] == within_s), None)


def figures(now: datetime | None = None) -> dict[str, Any]:
    """Everything the board shows, read now."""
    now = now or timezone.now()
    f = today(now)
    report = summary(f)
    intervals = {row["key"]: row for row in report["intervals"]}
    calls = report["calls"]
    return {
        "now": now.isoformat(),
        "day": timezone.localdate(now).isoformat(),
        "calls": {
            # Every call that rang today: the counted ones and those ringing now.
            "today": calls["offered"] + calls["ringing_now"],
            "answered": calls["answered"],
            "abandoned": calls["abandoned"],
        },
        "waiting": waiting(now),
        "answer": target(intervals["answer"], ANSWER_WITHIN_S),
        "departure": target(intervals["departure"], DEPARTURE_WITHIN_S),
        "incidents": report["incidents"],
        "response_by_priority": [
            {key: row[key] for key in ("priority", "label", "count", "p90_s", "target_p90_s", "p90_met")}
            for row in response_by_priority(f)
        ],
        "stations": stations(),
        "diverting": diverting(),
        "alarms": alarms(),
    }


def waiting(now: datetime) -> dict[str, Any]:
    """Calls ringing now, unanswered, and since when the longest has waited (the page runs
    its clock)."""
    ringing = Call.objects.filter(status=CallStatus.RINGING, ringing_at__gt=now - RINGING_AT_MOST)
    found = ringing.aggregate(count=Count("pk"), oldest=Min("ringing_at"))
    oldest = found["oldest"]
    return {
        "count": found["count"],
        "oldest_at": oldest.isoformat() if oldest else None,
        "longest_s": round((now - oldest).total_seconds(), 1) if oldest else None,
    }


def stations() -> list[dict[str, Any]]:
    """Free units (at station or returning) of each station, of those in service."""
    rows = Station.objects.annotate(
        free=Count("units", filter=Q(units__status__in=FREE)),
        in_service=Count("units", filter=~Q(units__status=UnitStatus.OUT_OF_SERVICE)),
    ).order_by("code")
    return [
        {"code": s.code, "name": s.name, "name_en": s.name_en, "free": s.free, "in_service": s.in_service}
        for s in rows
        if s.in_service
    ]


def diverting() -> list[dict[str, Any]]:
    labels = dict(DiversionCategory.choices)
    return [
        {
            "name": h.short_name or h.name,
            "name_en": h.name_en,
            "categories": [str(labels.get(c, c)) for c in h.diverting],
            "since": h.status_changed_at.isoformat() if h.status_changed_at else None,
        }
        for h in Hospital.objects.exclude(diverting=[]).order_by("name")
    ]


def alarms() -> dict[str, Any]:
    """Open alarms: how many, how many nobody acknowledged, and each one's kind, unit and time."""
    labels = dict(AlarmKind.choices)
    rows = list(open_alarms())
    return {
        "count": len(rows),
        "unacknowledged": sum(1 for a in rows if a.acknowledged_at is None),
        "list": [
            {
                "kind": a.kind,
                "label": str(labels.get(a.kind, a.kind)),
                "call_sign": a.unit.call_sign if a.unit else None,
                "raised_at": a.raised_at.isoformat(),
                "acknowledged": a.acknowledged_at is not None,
            }
            for a in rows[:8]
        ],
    }
