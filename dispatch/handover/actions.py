"""Seats and the handover: adding a seat, signing on and off, a note for the next team, and
the incoming team's acknowledgement. One transaction and one event each."""

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch.core.actions import ActionError, checked_text
from dispatch.core.event_kinds import EventKind
from dispatch.core.events import record_event
from dispatch.core.permissions import may_dispatch, may_write_roster
from dispatch.models import Handover, HandoverNote, Seat, SeatSession, User


def refuse_unless_dispatcher(actor: User) -> None:
    if not may_dispatch(actor):
        raise ActionError(_("Seats and the handover are for dispatchers and supervisors."), "forbidden", 403)


@transaction.atomic
def create_seat(name: str, *, actor: User) -> Seat:
    if not may_write_roster(actor):
        raise ActionError(_("Only supervisors and administrators add seats."), "forbidden", 403)
    name = checked_text(name, "seat", 40)
    if not name:
        raise ActionError(_("Give the seat a name, e.g. 调度台 3."), "no_name")
    if Seat.objects.filter(name=name).exists():
        raise ActionError(_("There is already a seat %(name)s.") % {"name": name}, "seat_exists", 409)
    seat = Seat.objects.create(name=name)
    record_event(EventKind.SEAT_CREATED, actor=actor, data={"seat": seat.pk, "name": name})
    return seat


@transaction.atomic
def sign_on(seat: Seat, *, actor: User) -> SeatSession:
    """Sign on to a seat: leaves the dispatcher's other seat, and signs off whoever sat there
    (the incoming dispatcher takes the seat over at the change of shift)."""
    refuse_unless_dispatcher(actor)
    seat = Seat.objects.select_for_update().get(pk=seat.pk)
    now = timezone.now()
    mine = SeatSession.objects.open().filter(user=actor).select_related("seat").first()
    if mine is not None and mine.seat_id == seat.pk:
        return mine
    previous = SeatSession.objects.open().filter(seat=seat).select_related("user").first()
    SeatSession.objects.open().filter(pk__in=[s.pk for s in (mine, previous) if s]).update(signed_off_at=now)
    session = SeatSession.objects.create(seat=seat, user=actor, signed_on_at=now)
    data: dict[str, Any] = {"seat": seat.pk, "name": seat.name, "user": actor.username}
    if previous is not None:
        data["replaced"] = previous.user.username
    if mine is not None:
        data["left"] = mine.seat.name
    record_event(EventKind.SEAT_SIGNED_ON, actor=actor, data=data)
    return session


@transaction.atomic
def sign_off(*, actor: User) -> int:
    sessions = list(SeatSession.objects.open().filter(user=actor).select_related("seat"))
    SeatSession.objects.filter(pk__in=[s.pk for s in sessions]).update(signed_off_at=timezone.now())
    for session in sessions:
        record_event(
            EventKind.SEAT_SIGNED_OFF,
            actor=actor,
            data={"seat": session.seat_id, "name": session.seat.name, "user": actor.username},
        )
    return len(sessions)


@transaction.atomic
def write_note(text: str, *, actor: User) -> HandoverNote:
    """A note for the next team, shown on the handover page until they acknowledge it."""
    refuse_unless_dispatcher(actor)
    text = checked_text(text, "note", 2000)
    if not text:
        raise ActionError(_("A note needs some text."), "empty_note")
    note = HandoverNote.objects.create(author=actor, text=text)
    record_event(EventKind.HANDOVER_NOTE, actor=actor, data={"note": note.pk, "text": text})
    return note


@transaction.atomic
def acknowledge_handover(summary: dict[str, Any], *, actor: User, seat: Seat | None = None) -> Handover:
    """The incoming team took over what the page showed (`summary`: what was open) and read
    the notes left for it."""
    refuse_unless_dispatcher(actor)
    handover = Handover.objects.create(acknowledged_by=actor, seat=seat, summary=summary)
    notes = list(HandoverNote.objects.pending().select_for_update().values_list("pk", flat=True))
    HandoverNote.objects.filter(pk__in=notes).update(handover=handover)
    record_event(
        EventKind.HANDOVER_ACKNOWLEDGED,
        actor=actor,
        data={"handover": handover.pk, "seat": seat.name if seat else None, "notes": notes, **summary},
    )
    return handover
