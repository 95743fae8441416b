"""The console reads again on events: its unit board on some (a unit added or changed in the
admin, a job stood down, a tap undone). An incident it does not read: after events about it the
server reads it once for every console and sends its row on the socket (dispatch/core/fanout.py),
and a crew's tap the list applies from the event at once. Only when no row comes (the server's
read failed) does the console read the incident itself. Each read is one read at a time: a read
asked while one is in flight runs after it, so an older answer can never land last and leave the
screen showing what is no longer so.

The race tests hold the first read in flight (the server's answer fetched, not yet given to the
page), change the thing twice so the second event reaches the page meanwhile, then give the page
the held, older answer. A console that read again at once got the newer answer first and then the
older one, and showed it until some later event, which in a quiet minute never comes."""

import json
import re

import pytest
from django.contrib.gis.geos import Point
from django.utils import translation

from dispatch.incidents.actions import create_incident, dispatch_unit, locate_incident
from dispatch.registry.actions import save_unit
from dispatch.units.actions import set_unit_status
from fleet.models import UnitStatus
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)
from tests.support.crew_tablet import job
from tests.support.page_waits import hold_first_read, pump_until, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCENE = Point(119.60, 24.90, srid=4326)
ROWS_FRAME = '{"type": "incidents"'


def socket_frames_kept(page, frames: list[str], drop_rows, node: "AppNode | None" = None) -> None:
    """Every frame the live socket brings, kept in `frames`; with `drop_rows` (or while
    drop_rows() says so), the server's incident rows are kept from the page (as when its read of
    them failed). `node`: the socket's app node, which a test can take down and bring back."""

    def route(ws):
        if node is not None and node.down:
            ws.close()  # refused: the page tries again later
            return
        server = ws.connect_to_server()
        if node is not None:
            node.sockets.append((ws, server))

        def from_server(message):
            frames.append(str(message))
            dropping = drop_rows() if callable(drop_rows) else drop_rows
            if not (dropping and str(message).startswith(ROWS_FRAME)):
                ws.send(message)

        server.on_message(from_server)
        ws.on_message(lambda message: server.send(message))

    page.route_web_socket(re.compile(r".*/ws/live/.*"), route)


class AppNode:
    """The app node a page's live socket reaches, as the page sees it: down, it closes the
    sockets it has and refuses new ones, as when the node dies and the other has not yet taken
    its sockets."""

    def __init__(self) -> None:
        self.down = False
        self.sockets: list = []

    def die(self) -> None:
        self.down = True
        for page_side, server_side in self.sockets:
            server_side.close()
            page_side.close()
        self.sockets.clear()


def console_with_probes(
    browser,  # noqa: F811
    live_url,
    user,
    frames: list[str],
    answers: list[str],
    read,
    drop_rows=False,
    node: AppNode | None = None,
):
    """The console, with every socket frame in `frames` and every answer to `read` (a path's
    end, or a test of the address) in `answers` from the moment it is ready."""
    page = signed_in_page(browser, live_url, user, viewport={"width": 1600, "height": 900})
    socket_frames_kept(page, frames, drop_rows, node)
    wanted = read if callable(read) else lambda url: url.endswith(read)
    page.on("response", lambda answer: answers.append(answer.url) if wanted(answer.url) else None)
    page.goto(f"{live_url}/console/")
    page.wait_for_selector("#console[data-ready='1']")
    page.wait_for_selector("#conn.conn-live")
    answers.clear()
    return page


def release_after_second_event(page, frames: list[str], kind: str, held: list, answers: list[str]) -> None:
    """Once the second `kind` event has reached the page, the held answer is given to it; returns
    when both reads' answers came and whichever came last has been drawn."""
    pump_until(
        page,
        lambda: sum(kind in f for f in frames) >= 2,
        lambda: f"the second change's event never reached the page: {frames[-3:]}",
    )
    page.wait_for_timeout(300)  # longer than the console's wait to gather an incident's events
    route, answer = held[0]
    route.fulfill(response=answer)
    pump_until(page, lambda: len(answers) >= 2, lambda: f"the console read {len(answers)} times, not 2")
    page.wait_for_timeout(300)


def test_a_unit_changed_during_a_read_is_shown_as_it_is_now(browser, live_url, world):  # noqa: F811
    """T-BLS-1 is changed to an ALS unit and back while the board's read of the units is held:
    the held answer says ALS, the board must say BLS."""
    frames: list[str] = []
    answers: list[str] = []
    page = console_with_probes(browser, live_url, world.alice, frames, answers, "/api/units")
    tile = f"#unit-{world.bls1.pk} .kind"
    bls, als = page.inner_text(tile), page.inner_text(f"#unit-{world.als1.pk} .kind")
    assert bls != als
    held = hold_first_read(page, "**/api/units")
    save_unit("T-BLS-1", kind="als", home_station=world.north, actor=world.erin)
    pump_until(page, lambda: held, "the console never read the units after the first change")
    save_unit("T-BLS-1", kind="bls", home_station=world.north, actor=world.erin)
    release_after_second_event(page, frames, '"unit.updated"', held, answers)
    wait_until(page, f"document.querySelector('{tile}').textContent === {bls!r}", seconds=5)


def test_an_incident_changed_during_its_read_is_shown_as_it_is_now(browser, live_url, world):  # noqa: F811
    """No row comes (kept from the page), so the console reads the incident itself; its address
    is corrected twice while that read is held: the list must show the second correction."""
    incident = create_incident(
        actor=world.alice, location=SCENE, location_source="pin", address="滨海路 1 号", priority=2
    )
    frames: list[str] = []
    answers: list[str] = []
    page = console_with_probes(
        browser, live_url, world.alice, frames, answers, f"/api/incidents/{incident.pk}", drop_rows=True
    )
    row = f"#incident-{incident.pk} .line2"
    assert page.inner_text(row) == "滨海路 1 号"
    held = hold_first_read(page, f"**/api/incidents/{incident.pk}")
    locate_incident(incident, SCENE, actor=world.alice, source="pin", address="滨海路 2 号")
    pump_until(page, lambda: held, "the console never read the incident after the first correction")
    locate_incident(incident, SCENE, actor=world.alice, source="pin", address="滨海路 3 号")
    release_after_second_event(page, frames, '"incident.located"', held, answers)
    wait_until(page, f"document.querySelector('{row}').textContent === '滨海路 3 号'", seconds=5)


def test_a_row_that_comes_during_a_read_is_followed_by_one_read_more(browser, live_url, world):  # noqa: F811
    """The console reads the incident itself (its row kept from the page) and that read is held;
    the address is corrected again and this time the row comes through. The held answer, older
    than the row, lands after it: the console reads once more, and the list shows the row's
    address, not the held one's."""
    incident = create_incident(
        actor=world.alice, location=SCENE, location_source="pin", address="滨海路 1 号", priority=2
    )
    frames: list[str] = []
    answers: list[str] = []
    dropping = [True]
    page = console_with_probes(
        browser, live_url, world.alice, frames, answers, f"/api/incidents/{incident.pk}", lambda: dropping[0]
    )
    row = f"#incident-{incident.pk} .line2"
    held = hold_first_read(page, f"**/api/incidents/{incident.pk}")
    locate_incident(incident, SCENE, actor=world.alice, source="pin", address="滨海路 2 号")
    pump_until(page, lambda: held, "no row came and the console did not read the incident itself")
    dropping[0] = False
    locate_incident(incident, SCENE, actor=world.alice, source="pin", address="滨海路 3 号")
    wait_until(page, f"document.querySelector('{row}').textContent === '滨海路 3 号'", seconds=10)
    route, answer = held[0]
    route.fulfill(response=answer)  # 滨海路 2 号
    pump_until(page, lambda: len(answers) >= 2, lambda: f"the console read {len(answers)} times, not 2")
    page.wait_for_timeout(300)
    wait_until(page, f"document.querySelector('{row}').textContent === '滨海路 3 号'", seconds=5)


def test_a_crews_taps_move_the_list_without_reading_the_incident(browser, live_url, world):  # noqa: F811
    """A tap's event says what the list shows of it (the job's new status, the clocks it
    stamped): the console applies it as its unit board does, and reads the incident only when it
    shows it in the detail. Read for every tap, a hundred consoles made a hundred reads of the
    incident for each tap of each crew; the server sends no row after a tap."""
    assignment = job(world, world.als1, hospital=world.city)
    frames: list[str] = []
    answers: list[str] = []
    read = f"/api/incidents/{assignment.incident_id}"
    page = console_with_probes(browser, live_url, world.alice, frames, answers, read)
    chip = f"#incident-{assignment.incident_id} .chip"
    for status in ("acknowledged", "en_route", "on_scene"):
        set_unit_status(world.als1, status, actor=world.alice)
        label = label_of(status)
        wait_until(page, f"document.querySelector('{chip}')?.textContent.endsWith('{label}')", seconds=10)
    assert not page.locator(f"#incident-{assignment.incident_id}.overdue").count()  # on scene in time
    assert answers == [], answers

    page.click(f"#incident-{assignment.incident_id}")  # shown in the detail: its times are read
    page.wait_for_selector("#detail:not([hidden])")
    set_unit_status(world.als1, "patient_contact", actor=world.alice)
    pump_until(
        page, lambda: len(answers) == 1, lambda: f"the incident in the detail was read {len(answers)} times"
    )
    contact = label_of("patient_contact")
    wait_until(page, f"document.querySelector('#detail').textContent.includes('{contact}')")
    set_unit_status(world.als1, "transporting", actor=world.alice)
    set_unit_status(world.als1, "at_hospital", actor=world.alice)
    set_unit_status(world.als1, "available", actor=world.alice)  # the job is done: its chip goes
    wait_until(page, f"!document.querySelector('{chip}')", seconds=10)
    assert not any(f.startswith(ROWS_FRAME) for f in frames)  # no row after a tap


def label_of(status: str) -> str:
    with translation.override("zh-hans"):
        return str(UnitStatus(status).label)


def test_a_run_of_calls_reaches_the_list_as_rows_without_a_read(browser, live_url, world):  # noqa: F811
    """Four calls in one page, one after another, each created, located and sent a unit: every
    change reaches the list from the server's rows, and the console reads none of the incidents."""
    frames: list[str] = []
    answers: list[str] = []
    page = console_with_probes(
        browser, live_url, world.alice, frames, answers, lambda url: "/api/incidents/" in url
    )
    for n, unit in enumerate((world.als1, world.als2, world.bls1, world.neg1), start=1):
        incident = create_incident(actor=world.alice, caller_number=f"+861380013800{n}")
        row = f"#incident-{incident.pk}"
        wait_until(page, f"!!document.querySelector('{row}')", seconds=10)
        locate_incident(
            incident, SCENE, actor=world.alice, source="pin", address=f"滨海路 {n} 号", place=None
        )
        wait_until(
            page, f"document.querySelector('{row} .line2')?.textContent === '滨海路 {n} 号'", seconds=10
        )
        dispatch_unit(incident, unit, actor=world.alice, hospital=world.city)
        wait_until(
            page,
            f"document.querySelector('{row} .chip')?.textContent.includes({unit.call_sign!r})",
            seconds=10,
        )
    assert answers == [], answers
    assert sum(f.startswith(ROWS_FRAME) for f in frames) >= 4


def test_a_console_that_reconnects_gets_what_it_missed_as_rows_without_a_read(browser, live_url, world):  # noqa: F811
    """Its app node dies while an incident is corrected and another is created; the console
    reconnects and catches up from the log. The rows of both come with the catch-up: the list
    shows them and the console reads neither (before, each console read every incident it caught
    up on, all of them at once, at the moment a node was already down)."""
    corrected = create_incident(
        actor=world.alice, location=SCENE, location_source="pin", address="滨海路 1 号", priority=2
    )
    frames: list[str] = []
    answers: list[str] = []
    node = AppNode()
    page = console_with_probes(
        browser, live_url, world.alice, frames, answers, lambda url: "/api/incidents/" in url, node=node
    )
    node.die()
    page.wait_for_selector("#conn:not(.conn-live)")
    locate_incident(corrected, SCENE, actor=world.alice, source="pin", address="滨海路 2 号")
    created = create_incident(actor=world.alice, location=SCENE, location_source="pin", address="滨海路 3 号")
    frames.clear()
    node.down = False
    page.wait_for_selector("#conn.conn-live", timeout=20_000)
    wait_until(
        page, f"document.querySelector('#incident-{corrected.pk} .line2')?.textContent === '滨海路 2 号'"
    )
    wait_until(
        page, f"document.querySelector('#incident-{created.pk} .line2')?.textContent === '滨海路 3 号'"
    )
    page.wait_for_timeout(3500)  # longer than the console waits for a row before reading itself
    assert answers == [], answers
    rows = [json.loads(f) for f in frames if f.startswith(ROWS_FRAME)]
    assert [{r["id"]: r["address"] for r in frame["incidents"]} for frame in rows] == [
        {corrected.pk: "滨海路 2 号", created.pk: "滨海路 3 号"}
    ]
