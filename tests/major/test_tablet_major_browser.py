"""Two crews at a mass-casualty scene on their tablets (1280×800): each taps START tags as it
finds casualties, one after another; both tablets and the casualty board count every one, no
casualty is registered twice; after the plan is accepted, a crew ticks two casualties and loads
them into its ambulance, and they leave the scene on every screen. Screenshot in
/tmp/major-shots."""

from pathlib import Path

import pytest

from dispatch.major.actions import allocate_casualties, declare_major_incident, dispatch_units
from dispatch.major.reads import proposed_plan
from dispatch.models import Casualty
from dispatch.units.actions import set_unit_status
from fleet.models import UnitStatus
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)
from tests.support.page_waits import drop_first_request, wait_until
from tests.support.roster import on_shift

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/major-shots")


def tablet(browser, live_url, user):  # noqa: F811
    page = signed_in_page(browser, live_url, user, viewport={"width": 1280, "height": 800})
    page.goto(f"{live_url}/tablet/")
    page.wait_for_selector("#major-panel:not([hidden])", timeout=20000)
    return page


def counted(page, tag: str, n: int) -> None:
    wait_until(
        page,
        f"document.querySelector('#major-panel .mp-count.tag-{tag}')?.textContent.endsWith(' {n}')",
        seconds=15,
    )


def test_two_tablets_tag_a_scene_and_load_an_ambulance(browser, live_url, world, crash):  # noqa: F811
    major = declare_major_incident(crash, level=3, actor=world.alice)
    dispatch_units(crash, [world.als1, world.als2], actor=world.alice, command_unit=world.als1)
    on_shift(world.carol, world.als1)
    second = world.als2.shifts.current().get().user
    second.set_password("pw-second-120")
    second.save()
    for unit, crew in ((world.als1, world.carol), (world.als2, second)):  # both on their way
        set_unit_status(unit, UnitStatus.ACKNOWLEDGED, actor=crew)
    first_tab, second_tab = tablet(browser, live_url, world.carol), tablet(browser, live_url, second)
    assert "T-ALS-1" in first_tab.inner_text("#major-panel")  # who commands

    for tag in ("red", "green", "green"):
        first_tab.click(f"#major-panel .mp-tag.tag-{tag}")
    for tag in ("yellow", "red"):
        second_tab.click(f"#major-panel .mp-tag.tag-{tag}")
    for page in (first_tab, second_tab):
        counted(page, "red", 2)
        counted(page, "green", 2)
        counted(page, "yellow", 1)
    assert Casualty.objects.filter(major=major).count() == 5

    plan, _ = proposed_plan(major)
    allocate_casualties(major, {a.patient: a.hospital for a in plan.allocations}, actor=world.alice)
    reds = list(Casualty.objects.filter(major=major, tag="red").order_by("pk"))
    wait_until(
        first_tab,
        f"!!document.querySelector('#major-panel input[data-casualty=\"{reds[0].pk}\"]')",
        seconds=15,
    )
    for red in reds:
        first_tab.check(f"#major-panel input[data-casualty='{red.pk}']")
    first_tab.click("#mp-load")
    wait_until(
        first_tab,
        f"!document.querySelector('#major-panel input[data-casualty=\"{reds[0].pk}\"]')",
        seconds=15,
    )
    loaded = Casualty.objects.filter(pk__in=[r.pk for r in reds])
    assert {c.status for c in loaded} == {"transporting"}
    assert {c.assignment.unit_id for c in loaded} == {world.als1.pk}
    wait_until(
        second_tab,
        f"!document.querySelector('#major-panel input[data-casualty=\"{reds[1].pk}\"]')",
        seconds=15,
    )
    SHOTS.mkdir(exist_ok=True)
    first_tab.screenshot(path=str(SHOTS / "tablet-1280-zh.png"), full_page=True)


def test_quick_taps_send_once_each_and_an_unanswered_one_is_sent_again_by_itself(
    browser,  # noqa: F811
    live_url,
    world,
    crash,
):
    """Ten quick taps make ten registrations from ten requests (not one send of every waiting
    casualty per tap: the requests grew with the square of the taps and timed out on a slow line).
    The last tap's request gets no answer (the line drops): the casualty waits on the tablet and
    is sent again by itself a few seconds later, with no other tap, and registered once."""
    major = declare_major_incident(crash, level=3, actor=world.alice)
    dispatch_units(crash, [world.als1], actor=world.alice, command_unit=world.als1)
    on_shift(world.carol, world.als1)
    set_unit_status(world.als1, UnitStatus.ACKNOWLEDGED, actor=world.carol)
    page = tablet(browser, live_url, world.carol)
    posts: list[str] = []
    page.on(
        "request", lambda r: posts.append(r.url) if r.method == "POST" and "/casualties" in r.url else None
    )
    for _ in range(10):
        page.click("#major-panel .mp-tag.tag-green")
    counted(page, "green", 10)
    assert len(posts) == 10, posts
    assert Casualty.objects.filter(major=major).count() == 10

    dropped = drop_first_request(page, "**/casualties")
    page.click("#major-panel .mp-tag.tag-red")
    kept = "document.querySelector('#major-panel').textContent"
    wait_until(page, f"{kept}.includes('无网络') || {kept}.includes('No network')", seconds=10)
    assert dropped and Casualty.objects.filter(major=major).count() == 10
    counted(page, "red", 1)  # sent again within seconds, no tap
    assert Casualty.objects.filter(major=major).count() == 11
    assert len(posts) == 12  # ten, the dropped one, its retry
