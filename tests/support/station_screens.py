"""Station screens for the station tests: a screen account per station of the test world, and
a job sent to a unit with an address and details a station must (and must not) see."""

from django.contrib.gis.geos import Point

from dispatch.incidents.actions import create_incident, dispatch_unit, triage_incident
from dispatch.models import Assignment, Role, User


def screen(station, username: str = "") -> User:
    """A station's wall screen account (its password: pw-<username>-120)."""
    username = username or f"screen-{station.code.lower()}"
    return User.objects.create_user(
        username, password=f"pw-{username}-120", role=Role.STATION, station=station, first_name="大屏"
    )


ODD_ADDRESS = "滨海路 <b>88</b> 号 & \"东门\" 'A' 座 ✚ \\ 𠀋"


def sent(
    world, unit, *, address: str = "明湾市滨海路 88 号", complaint: str = "胸痛", priority: int = 1
) -> Assignment:
    """An incident with a caller's number, and `unit` sent to it by alice."""
    incident = create_incident(
        actor=world.alice,
        caller_number="+8613800138000",
        location=Point(119.6, 24.9, srid=4326),
        location_source="pin",
        address=address,
        priority=priority,
        chief_complaint=complaint,
    )
    return dispatch_unit(incident, unit, actor=world.alice)


__all__ = ["screen", "sent", "ODD_ADDRESS", "triage_incident"]
