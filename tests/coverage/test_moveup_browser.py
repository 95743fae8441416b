"""A move-up accepted end to end in browsers, on the hand-checked network of
tests/support/move_ups.py with the test street grid as the road network, in one console page
through a run of changes: a suggestion shows with its reason and chimes; Shift+G dismisses it
and the next best one shows; a change in the city supersedes it; G accepts the next; the crew's
tablet shows "调往 … 待命" with the route on its map; the crew taps Arrived and the console's
unit board shows the unit available at the standby point, and still does after a reload."""

from pathlib import Path

import pytest

from dispatch.coverage import moveup
from dispatch.models import MoveUp, MoveUpState, Role, User
from fleet.models import Unit
from tests.support.browser import browser, live_url, signed_in_page  # noqa: F401  (fixtures)
from tests.support.console_desk import open_console
from tests.support.er_helpers import load_grid
from tests.support.move_ups import E1, hand_city, place
from tests.support.page_waits import wait_until
from tests.support.roster import on_shift

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_router"),
]

SHOTS = Path("/tmp/moveup-shots")
CHIMES = 'window.__chimes = []; document.addEventListener("chime", (e) => window.__chimes.push(e.detail));'


def open_tablet(browser, live_url, crew, unit, width=1280, height=800):  # noqa: F811
    page = signed_in_page(
        browser,
        live_url,
        crew,
        viewport={"width": width, "height": height},
        has_touch=True,
        geolocation={"latitude": unit.position.y, "longitude": unit.position.x, "accuracy": 10},
        permissions=["geolocation"],
    )
    page.goto(f"{live_url}/tablet/")
    page.wait_for_selector("#tablet[data-ready='1']")
    return page


def proposed() -> MoveUp:
    moveup.refresh()
    return MoveUp.objects.get(state=MoveUpState.PROPOSED)


def tile_status(page, unit) -> str:
    return page.get_attribute(f"#unit-{unit.pk}", "data-status") or ""


def test_a_move_up_accepted_end_to_end(browser, live_url, world, monkeypatch):  # noqa: F811
    SHOTS.mkdir(exist_ok=True)
    load_grid()
    hand_city(world, monkeypatch)
    on_shift(world.carol, world.bls1)
    console = open_console(browser, live_url, world.alice, width=1920, height=1080)
    console.evaluate(CHIMES)

    # 1. the first suggestion, with its reason; Shift+G dismisses it
    first = proposed()
    row = console.wait_for_selector(f"#move-up-{first.pk}")
    text = row.inner_text()
    assert "东区 覆盖不足" in text and "T-ALS-1 调往 东待命点" in text and "分钟" in text
    assert "20.0% → 0.0%" in text
    wait_until(console, "() => window.__chimes.includes('notice')")
    console.keyboard.press("Shift+G")
    console.wait_for_selector(f"#move-up-{first.pk}", state="detached")
    assert MoveUp.objects.get(pk=first.pk).state == MoveUpState.DISMISSED

    # 2. the next best (not the one just dismissed); then the gap closes and it is superseded
    second = proposed()
    assert second.unit == world.bls1
    console.wait_for_selector(f"#move-up-{second.pk}:has-text('T-BLS-1')")
    place(world.neg1, *E1)
    moveup.refresh()
    console.wait_for_selector(f"#move-up-{second.pk}", state="detached")
    assert console.is_hidden("#moveup-panel")
    place(world.neg1, 119.60, 24.85)

    # 3. again, and G accepts: the unit relocates on the board and on its tablet, with the route
    third = proposed()
    tablet = open_tablet(browser, live_url, world.carol, Unit.objects.get(pk=world.bls1.pk))
    console.wait_for_selector(f"#move-up-{third.pk}.proposed")
    console.screenshot(path=str(SHOTS / "console-1920-proposed.png"))
    console.set_viewport_size({"width": 1366, "height": 768})
    console.screenshot(path=str(SHOTS / "console-1366-proposed.png"))
    console.keyboard.press("g")
    console.wait_for_selector(f"#move-up-{third.pk}.accepted:has-text('alice')")
    console.wait_for_selector(
        f"#unit-{world.bls1.pk}[data-status='relocating'] .why:has-text('调往 东待命点')"
    )
    assert Unit.objects.get(pk=world.bls1.pk).status == "relocating"
    tablet.wait_for_selector("#relocation:not([hidden]) #relocation-title:has-text('调往 东待命点 待命')")
    assert tablet.is_hidden("#idle")
    tablet.wait_for_selector("#map-status:has-text('红线：从本车出发')")  # the route, drawn (canvas)
    tablet.wait_for_selector("#relocation-eta:has-text('到待命点约')")
    tablet.screenshot(path=str(SHOTS / "tablet-1280-relocating.png"))
    console.screenshot(path=str(SHOTS / "console-1366-accepted.png"))

    # 4. the crew taps Arrived: available at the standby point, on the console's board
    tablet.click("#relocation-arrived")
    tablet.wait_for_selector("#relocation", state="hidden")
    tablet.wait_for_selector("#idle:not([hidden])")
    console.wait_for_selector(
        f"#unit-{world.bls1.pk}[data-status='available'] .why:has-text('在 东待命点 待命')"
    )
    assert console.is_hidden("#moveup-panel")
    third.refresh_from_db()
    assert third.state == MoveUpState.DONE and Unit.objects.get(pk=world.bls1.pk).status == "available"
    console.set_viewport_size({"width": 1920, "height": 1080})
    console.screenshot(path=str(SHOTS / "console-1920-arrived.png"))
    # The note reads whole on the tile (it takes two columns), not cut to "在 东待…".
    status = console.locator(f"#unit-{world.bls1.pk} .status")
    assert status.evaluate("e => e.scrollWidth <= e.clientWidth"), status.evaluate(
        "e => [e.scrollWidth, e.clientWidth]"
    )
    # 5. the unit list read again (a shift starts on another unit): the note stays
    with console.expect_response(lambda r: r.url.endswith("/api/units")):
        on_shift(User.objects.create_user("crew-late", role=Role.CREW), world.als2)
    console.wait_for_timeout(500)  # the board drawn again from the new list
    assert console.is_visible(
        f"#unit-{world.bls1.pk}[data-status='available'] .why:has-text('在 东待命点 待命')"
    )
    # 6. a reload (a new shift's dispatcher, a crashed browser) still says where it waits
    console.reload()
    console.wait_for_selector("#console[data-ready='1']")
    console.wait_for_selector(
        f"#unit-{world.bls1.pk}[data-status='available'] .why:has-text('在 东待命点 待命')"
    )
    assert console.is_hidden("#moveup-panel")  # a unit waiting there is no open move


def test_the_tablet_relocating_on_a_phone(browser, live_url, world, monkeypatch):  # noqa: F811
    SHOTS.mkdir(exist_ok=True)
    load_grid()
    hand_city(world, monkeypatch)
    on_shift(world.carol, world.als1)
    move = moveup.accept_move_up(proposed(), actor=world.alice)
    assert move.unit == world.als1
    tablet = open_tablet(browser, live_url, world.carol, Unit.objects.get(pk=world.als1.pk), 390, 844)
    tablet.wait_for_selector("#relocation:not([hidden]) #relocation-title:has-text('调往 东待命点 待命')")
    tablet.wait_for_selector("#map-status:has-text('红线：从本车出发')")
    tablet.screenshot(path=str(SHOTS / "tablet-390-relocating.png"), full_page=True)


def test_arrived_twice_or_after_the_gps_is_no_error(browser, live_url, world, monkeypatch):  # noqa: F811
    """The server saw the unit arrive by GPS (or another tablet tapped) just before the crew's
    own tap: the tap finds the move over, and the tablet says nothing is wrong."""
    load_grid()
    hand_city(world, monkeypatch)
    on_shift(world.carol, world.als1)
    move = moveup.accept_move_up(proposed(), actor=world.alice)
    tablet = open_tablet(browser, live_url, world.carol, Unit.objects.get(pk=world.als1.pk))
    tablet.wait_for_selector("#relocation:not([hidden])")
    moveup.arrive(move, actor=None, how="gps")
    # The crew's tap, whether or not the screen has heard yet (the button may already be hidden).
    with tablet.expect_response(lambda r: r.url.endswith("/api/crew/relocation/arrived")) as tapped:
        tablet.evaluate("document.querySelector('#relocation-arrived').click()")
    assert tapped.value.status == 409
    tablet.wait_for_selector("#relocation", state="hidden")
    # The idle screen follows once the tablet has read its state again (slower on a busy machine
    # than a fixed wait allowed).
    tablet.wait_for_selector("#idle", state="visible")
    assert tablet.inner_text("#relocation-error") == ""
    assert MoveUp.objects.get(pk=move.pk).end_reason == "gps"
