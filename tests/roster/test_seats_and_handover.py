"""Dispatcher seats (席位) and the shift handover (交班): sign on to a seat (taking it over from
whoever sat there), the console's header shows it; the handover page lists open incidents,
open alarms, units out of service and the notes for the next team; the incoming team
acknowledges (an event, the notes with it). Control room only."""

import pytest
from django.contrib.gis.geos import Point

from dispatch.alarms.scanner import scan
from dispatch.handover.actions import create_seat, sign_on, write_note
from dispatch.incidents.actions import create_incident
from dispatch.models import Event, Handover, HandoverNote, Role, Seat, SeatSession, User
from dispatch.units.actions import take_out_of_service
from tests.support.crew_tablet import signed_in


@pytest.fixture
def seats(world):
    return create_seat("调度台 3", actor=world.bob), create_seat("调度台 4", actor=world.erin)


def test_signing_on_shows_the_seat_in_the_console_header(world, seats):
    console = signed_in(world.alice)
    assert "seat-select" in console.get("/console/").content.decode()
    response = console.post("/handover/seat/", {"seat": seats[0].pk, "next": "console"})
    assert response.status_code == 302 and response["Location"] == "/console/"
    page = console.get("/console/").content.decode()
    assert 'id="seat-name"' in page and "调度台 3" in page
    event = Event.objects.get(kind="seat.signed_on")
    assert event.actor == world.alice and event.data["name"] == "调度台 3"


def test_one_dispatcher_per_seat_the_next_takes_it_over(world, seats):
    sign_on(seats[0], actor=world.alice)
    sign_on(seats[0], actor=world.bob)
    open_sessions = SeatSession.objects.open()
    assert [(s.seat.name, s.user.username) for s in open_sessions] == [("调度台 3", "bob")]
    assert Event.objects.filter(kind="seat.signed_on").last().data["replaced"] == "alice"
    sign_on(seats[1], actor=world.bob)  # moving desks leaves the first
    assert [(s.seat.name, s.user.username) for s in SeatSession.objects.open()] == [("调度台 4", "bob")]
    signed_in(world.bob).post("/handover/seat/", {})  # sign off
    assert not SeatSession.objects.open().exists()


def test_only_dispatchers_sign_on_and_only_supervisors_or_admins_add_seats(world, seats):
    erin = signed_in(world.erin)  # an admin reads the page but has no seat
    assert erin.post("/handover/seat/", {"seat": seats[0].pk}).status_code == 403
    assert not SeatSession.objects.exists()
    assert signed_in(world.alice).post("/handover/seats/", {"name": "调度台 9"}).status_code == 403
    assert signed_in(world.bob).post("/handover/seats/", {"name": "调度台 9"}).status_code == 302
    assert signed_in(world.bob).post("/handover/seats/", {"name": "调度台 9"}).status_code == 409
    assert Seat.objects.filter(name="调度台 9").count() == 1


@pytest.mark.parametrize("who", ["carol", "dave"])
def test_the_handover_page_is_for_the_control_room(world, who):
    client = signed_in(getattr(world, who))
    assert client.get("/handover/").status_code == 403
    assert client.post("/handover/note/", {"text": "x"}).status_code == 403
    assert not HandoverNote.objects.exists()


def test_the_page_lists_what_is_open_and_the_incoming_team_acknowledges(world, seats, settings):
    settings.TARGET_PROCESSING_SECONDS = 0
    incident = create_incident(
        actor=world.alice,
        location=Point(119.6, 24.9, srid=4326),
        location_source="pin",
        priority=1,
        chief_complaint="胸痛 <b>&",
        address="滨海路 88 号",
    )
    scan()  # the undispatched incident is an alarm at once with a zero target
    take_out_of_service(world.neg1, "负压舱消毒", actor=world.bob)
    write_note("T-NEG-1 消毒至 18:00\n第二行 <script>", actor=world.alice)
    page = signed_in(world.bob).get("/handover/").content.decode()
    assert incident.number in page and "胸痛 &lt;b&gt;&amp;" in page and "滨海路 88 号" in page
    alarms = page[page.index('id="handover-alarms"') : page.index('id="handover-units"')]
    assert incident.number in alarms  # the alarm raised on it
    assert page.count('id="handover-alarms"') == 1 and "T-NEG-1" in page and "负压舱消毒" in page
    assert "第二行 &lt;script&gt;" in page and "<br>" in page

    newcomer = User.objects.create_user("night", role=Role.DISPATCHER)
    sign_on(seats[1], actor=newcomer)
    response = signed_in(newcomer).post("/handover/acknowledge/", {})
    assert response.status_code == 302
    handover = Handover.objects.get()
    assert handover.acknowledged_by == newcomer and handover.seat == seats[1]
    assert handover.summary["incidents"] == [incident.pk] and handover.summary["out_of_service"] == [
        "T-NEG-1"
    ]
    assert handover.summary["alarms"]
    assert list(handover.notes.values_list("text", flat=True)) == ["T-NEG-1 消毒至 18:00\n第二行 <script>"]
    event = Event.objects.get(kind="changeover.acknowledged")
    assert event.actor == newcomer and event.data["seat"] == "调度台 4"
    assert (
        "No notes yet"
        in signed_in(world.bob).get("/handover/", headers={"Accept-Language": "en"}).content.decode()
    )


def test_an_empty_note_is_refused_and_nothing_written(world):
    response = signed_in(world.alice).post("/handover/note/", {"text": "   "})
    assert response.status_code == 422 and not HandoverNote.objects.exists()
    assert 'id="handover-error"' in response.content.decode()
