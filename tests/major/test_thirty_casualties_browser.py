"""A 30-casualty major incident handled end to end in browsers, as a centre would: the dispatcher
declares it on the major-incident page and sends three units at once from the casualty board; two
crews tag fifteen casualties each on their tablets; the dispatcher plans the distribution and
accepts it; three ER boards each acknowledge every patient allocated to them, and none sees
another's. No page is reloaded."""

from pathlib import Path

import pytest
from django.contrib.gis.geos import Point

from dispatch.handoff.actions import set_beds
from dispatch.models import Casualty, MajorIncident, Role, User
from dispatch.registry.actions import create_hospital
from dispatch.units.actions import set_unit_status
from fleet.models import UnitStatus
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)
from tests.support.page_waits import wait_until
from tests.support.roster import on_shift

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/major-shots")

# Each crew's fifteen, in the order found: 3 red, 4 yellow, 7 green, 1 black.
FOUND = ["red", "green", "yellow", "green", "red", "green", "black", "yellow", "green", "red", "green",
         "yellow", "green", "yellow", "green"]  # fmt: skip


def open_page(browser, live_url, user, path, width=1920, height=1080):  # noqa: F811
    page = signed_in_page(browser, live_url, user, viewport={"width": width, "height": height})
    page.goto(f"{live_url}{path}")
    return page


def test_thirty_casualties_declared_sent_tagged_spread_and_acknowledged(browser, live_url, world, crash):  # noqa: F811
    third = create_hospital("海港医院", Point(119.62, 24.88, srid=4326), capabilities=["trauma", "ct"])
    nurses = {world.city.pk: world.dave, world.county.pk: world.frank}
    nurses[third.pk] = User.objects.create_user(
        "gina", password="pw-gina-120", role=Role.HOSPITAL, hospital=third
    )
    for hospital, resus, er in ((world.city, 2, 8), (world.county, 2, 8), (third, 3, 8)):
        set_beds(hospital, "resus", resus, actor=None)
        set_beds(hospital, "er", er, actor=None)

    # Declared on the major-incident page, level II, 30 reported: the board opens.
    board = open_page(browser, live_url, world.alice, "/major/")
    board.select_option("#declare-incident", str(crash.pk))
    board.select_option("#declare-level", "2")
    board.fill("#declare-count", "30")
    board.click("#declare-form button[type=submit]")
    board.wait_for_selector("#major[data-ready='1']")
    major = MajorIncident.objects.get(incident=crash)
    assert major.level == 2 and major.casualties_reported == 30
    board.wait_for_selector("#conn.conn-live")
    board.evaluate("window.notReloaded = true")

    # Three units at once from the board; the first ticked commands.
    board.click("#send-open")
    board.wait_for_selector("#send-rows input")
    for unit in (world.als1, world.als2, world.bls1):
        board.check(f"#send-rows input[value='{unit.pk}']")
    SHOTS.mkdir(exist_ok=True)
    board.screenshot(path=str(SHOTS / "send-units-1920-zh.png"))
    board.click("#send-go")
    wait_until(board, "document.getElementById('unit-count').textContent === '3'", seconds=15)
    major.refresh_from_db()
    assert major.command_unit_id in {world.als1.pk, world.als2.pk, world.bls1.pk}

    # Two crews at the scene, fifteen casualties each, tag first.
    on_shift(world.carol, world.als1)
    second = world.als2.shifts.current().get().user
    second.set_password("pw-second-120")
    second.save()
    tablets = []
    for unit, crew in ((world.als1, world.carol), (world.als2, second)):
        set_unit_status(unit, UnitStatus.ACKNOWLEDGED, actor=crew)
        tablet = open_page(browser, live_url, crew, "/tablet/", 1280, 800)
        tablet.wait_for_selector("#major-panel:not([hidden])", timeout=20000)
        tablets.append(tablet)
    for tag in FOUND:
        for tablet in tablets:
            tablet.click(f"#major-panel .mp-tag.tag-{tag}")
    wait_until(board, "document.getElementById('major').dataset.casualties === '30'", seconds=30)
    assert Casualty.objects.filter(major=major).count() == 30
    assert board.inner_text("#tile-red .big") == "6" and board.inner_text("#tile-black .big") == "2"

    # The plan, accepted as proposed: 28 carried over the three hospitals, within their beds.
    board.click("#plan-button")
    board.wait_for_selector("#plan:not([hidden])")
    board.click("#plan-accept")
    board.wait_for_selector("#plan", state="hidden")
    carried = Casualty.objects.filter(major=major).exclude(tag="black")
    assert carried.filter(hospital__isnull=True).count() == 0
    per_hospital = {h: list(carried.filter(hospital_id=h).values_list("tag", flat=True)) for h in nurses}
    assert all(per_hospital.values())  # every hospital takes some
    beds = {world.city.pk: (2, 8), world.county.pk: (2, 8), third.pk: (3, 8)}
    for hospital, tags in per_hospital.items():
        assert tags.count("red") <= beds[hospital][0] and len(tags) - tags.count("red") <= beds[hospital][1]

    # Each ER acknowledges all of its own, and sees no one else's.
    for hospital, nurse in nurses.items():
        er = open_page(browser, live_url, nurse, "/er/")
        mine = set(carried.filter(hospital_id=hospital).values_list("pk", flat=True))
        er.wait_for_selector("#er-major li[data-casualty]")
        shown = {
            int(x)
            for x in er.eval_on_selector_all(
                "#er-major li[data-casualty]", "els => els.map(e => e.dataset.casualty)"
            )
        }
        assert shown == mine
        for pk in sorted(mine):
            er.click(f"#er-major button[data-ack='{pk}']")
            er.wait_for_selector(f"#er-major li[data-casualty='{pk}'] .acked")
    for hospital, nurse in nurses.items():
        assert set(carried.filter(hospital_id=hospital).values_list("acknowledged_by", flat=True)) == {
            nurse.pk
        }
    wait_until(board, "[...document.querySelectorAll('#casualty-rows .acked')].length === 28", seconds=15)
    assert board.evaluate("window.notReloaded") and all(t.url.endswith("/tablet/") for t in tablets)
    board.screenshot(path=str(SHOTS / "thirty-1920-zh.png"), full_page=True)
