"""What the handover page shows: open incidents, open alarms, units out of service, the notes
for the next team, the seats and who sits at them."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from dispatch.models import (
    Alarm,
    Handover,
    HandoverNote,
    Incident,
    Seat,
    SeatSession,
    User,
)
from fleet.models import Unit, UnitStatus


def current_seat(user: User) -> Seat | None:
    """The seat the user is signed on to now, if any."""
    session = SeatSession.objects.open().filter(user=user).select_related("seat").first()
    return session.seat if session else None


def seat_context(user: User) -> dict[str, Any]:
    """What templates/seat_badge.html needs: the user's seat, and the seats to pick from."""
    return {"seat": current_seat(user), "seats": list(Seat.objects.all())}


@dataclass
class HandoverState:
    incidents: list[Incident]
    alarms: list[Alarm]
    out_of_service: list[Unit]
    notes: list[HandoverNote]
    seats: list[tuple[Seat, SeatSession | None]]
    last: Handover | None

    def summary(self) -> dict[str, Any]:
        """What the incoming team took over, as recorded with its acknowledgement."""
        return {
            "incidents": [i.pk for i in self.incidents],
            "alarms": [a.pk for a in self.alarms],
            "out_of_service": [u.call_sign for u in self.out_of_service],
        }


def open_incidents() -> QuerySet[Incident]:
    return Incident.objects.open().prefetch_related("assignments__unit").order_by("priority", "created_at")


def handover_state() -> HandoverState:
    sessions = {s.seat_id: s for s in SeatSession.objects.open().select_related("user")}
    return HandoverState(
        incidents=list(open_incidents()),
        alarms=list(Alarm.objects.open().select_related("incident", "unit", "acknowledged_by")),
        out_of_service=list(
            Unit.objects.filter(status=UnitStatus.OUT_OF_SERVICE).select_related("home_station")
        ),
        notes=list(HandoverNote.objects.pending().select_related("author")),
        seats=[(seat, sessions.get(seat.pk)) for seat in Seat.objects.all()],
        last=Handover.objects.select_related("acknowledged_by", "seat").first(),
    )
