"""What the city map draws beyond places: each unit's road route on its job."""

import math
from typing import TYPE_CHECKING

from dispatch.models import Assignment, IncidentStatus
from fleet.models import UnitStatus

if TYPE_CHECKING:  # the router's module is heavy; api.py loads it on first use
    from fleet.roads.router import Router

# Where a unit on a job is driving: to the scene until it is there, then with the patient to the
# hospital. On scene, with the patient or at the hospital it is where it is going: no route.
TO_SCENE = (UnitStatus.DISPATCHED, UnitStatus.ACKNOWLEDGED, UnitStatus.EN_ROUTE)
TO_HOSPITAL = (UnitStatus.TRANSPORTING,)


def live_routes(router: "Router") -> list[dict]:
    """The road route from each unit on its way (with a known position) to where it is going;
    a unit no road reaches from where it is has none."""
    rows = []
    live = (
        Assignment.objects.live()
        .filter(incident__status=IncidentStatus.OPEN, unit__position__isnull=False)
        .filter(unit__status__in=[*TO_SCENE, *TO_HOSPITAL])
        .select_related("unit", "incident", "hospital")
        .order_by("pk")
    )
    for a in live:
        unit = a.unit
        if unit.status in TO_SCENE:
            target, to = a.incident.location, "scene"
        else:
            target, to = (a.hospital.location if a.hospital else None), "hospital"
        if target is None:
            continue
        route = router.route((unit.position.x, unit.position.y), (target.x, target.y))
        if math.isinf(route.seconds):
            continue
        rows.append(
            {
                "assignment": a.pk,
                "unit": unit.pk,
                "call_sign": unit.call_sign,
                "incident": a.incident_id,
                "to": to,
                "seconds": route.seconds,
                "metres": route.metres,
                "coordinates": [list(c) for c in route.coordinates],
            }
        )
    return rows
