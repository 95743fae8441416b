"""Pre-arrival notices per casualty in Chromium, and the major-incident panels reading when their
socket says something changed instead of on a timer.

- Idle: a tablet and an ER board with no major incident make no request for it over 30 s of page
  time (Playwright's clock; the old panels asked every 5 s and every 10 s), and still show a major
  incident declared, a unit sent and a patient allocated, live.
- A crew carrying two casualties sends a notice for each from the tablet (chips, free text with
  odd characters, vital signs; an impossible reading is refused on the tablet and nothing is sent);
  the city's ER board shows each under its patient with the abnormal readings marked and chimes;
  a re-send updates it and the board says so. Screenshots in /tmp/major-shots.
"""

from functools import partial
from pathlib import Path

import pytest

from dispatch.major.actions import (
    allocate_casualties,
    declare_major_incident,
    dispatch_units,
    register_casualty,
    transport_casualties,
)
from dispatch.models import Assignment, CasualtyNotice
from dispatch.units.actions import set_unit_status
from fleet.models import UnitStatus
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)
from tests.support.page_waits import drop_first_request, pump_until, wait_until
from tests.support.roster import on_shift

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/major-shots")
READS = ("/api/major/mine", "/api/hospital/major")
# Counts the chimes: every one starts an oscillator (static/js/sound.js).
COUNT_CHIMES = """
window.__chimes = 0;
const original = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () { window.__chimes += 1; return original.call(this); };
"""


def open_page(browser, live_url, user, path, viewport, *, clock=False):  # noqa: F811
    page = signed_in_page(browser, live_url, user, viewport=viewport)
    page.add_init_script(COUNT_CHIMES)
    if clock:
        page.clock.install()
    page.reads = []
    page.on(
        "request", lambda request: page.reads.append(request.url) if request.url.endswith(READS) else None
    )
    page.goto(f"{live_url}{path}")
    return page


def has_read(page, path: str) -> bool:
    return any(url.endswith(path) for url in page.reads)


def test_idle_panels_make_no_requests_and_still_show_a_major_incident_live(
    browser,  # noqa: F811
    live_url,
    world,
    crash,  # noqa: F811
):
    on_shift(world.carol, world.als1)
    tab = open_page(browser, live_url, world.carol, "/tablet/", {"width": 1280, "height": 800}, clock=True)
    er = open_page(browser, live_url, world.dave, "/er/", {"width": 1920, "height": 1080}, clock=True)
    er.wait_for_selector("#er[data-ready='1']")
    for page, path in ((tab, READS[0]), (er, READS[1])):
        pump_until(page, partial(has_read, page, path), f"no read of {path} at start")
        page.wait_for_timeout(1500)
        assert sum(url.endswith(path) for url in page.reads) == 1, page.reads
        page.reads.clear()
    for page in (tab, er):
        page.clock.run_for(30_000)
    tab.wait_for_timeout(1000)
    assert tab.reads == [] and er.reads == [], (tab.reads, er.reads)
    assert tab.is_hidden("#major-panel") and er.is_hidden("#er-major")

    # Something happens for them: each reads, and shows it without a reload.
    major = declare_major_incident(crash, level=3, actor=world.alice)
    dispatch_units(crash, [world.als1], actor=world.alice)
    # (The panel's own state: the job card around it is tablet.js's, drawn on its own timers.)
    wait_until(tab, "!document.querySelector('#major-panel').hidden")
    casualty = register_casualty(major, tag="red", actor=world.alice)
    wait_until(tab, "document.querySelector('#major-panel .mp-count.tag-red')?.textContent.endsWith(' 1')")
    allocate_casualties(major, {casualty.pk: world.city.pk}, actor=world.alice)
    wait_until(er, f"!!document.querySelector(\"#er-major li[data-casualty='{casualty.pk}']\")")
    # Reads followed the events: a handful, not a timer's worth.
    assert 1 <= sum(url.endswith(READS[0]) for url in tab.reads) <= 6, tab.reads
    assert 1 <= sum(url.endswith(READS[1]) for url in er.reads) <= 3, er.reads


def fill_notice(page, casualty_id, *, chips=(), text="", vitals=None, sex=None, age=None):
    page.click(f"#major-panel [data-open-notice='{casualty_id}']")
    form = f"#major-panel form[data-notice-form='{casualty_id}']"
    page.wait_for_selector(form)
    for chip in chips:
        page.click(f"{form} [data-chip='{chip}']")
    if text:
        page.fill(f"{form} textarea[name='injuries']", text)
    for name, value in (vitals or {}).items():
        page.fill(f"{form} input[name='{name}']", str(value))
    if sex:
        page.check(f"{form} input[name='sex'][value='{sex}']")
    if age is not None:
        page.fill(f"{form} input[name='age_estimate']", str(age))
    return form


def test_a_crew_sends_a_notice_per_casualty_and_the_er_sees_each_live(browser, live_url, world, crash):  # noqa: F811
    major = declare_major_incident(crash, level=3, actor=world.alice)
    dispatch_units(crash, [world.als1, world.als2], actor=world.alice)
    on_shift(world.carol, world.als1)
    set_unit_status(world.als1, UnitStatus.ACKNOWLEDGED, actor=world.carol)
    red, yellow, green = (
        register_casualty(major, tag=t, actor=world.alice) for t in ("red", "yellow", "green")
    )
    allocate_casualties(
        major, {red.pk: world.city.pk, yellow.pk: world.city.pk, green.pk: world.county.pk}, actor=world.alice
    )
    job = Assignment.objects.get(incident=crash, unit=world.als1)
    transport_casualties([red, yellow], job, actor=world.carol)
    other = Assignment.objects.get(incident=crash, unit=world.als2)
    transport_casualties([green], other, actor=world.alice)

    er = open_page(browser, live_url, world.dave, "/er/", {"width": 1920, "height": 1080})
    er.wait_for_selector("#er[data-ready='1']")
    er.wait_for_selector(f"#er-major li[data-casualty='{yellow.pk}']")
    er.evaluate("window.notReloaded = true")
    tab = open_page(browser, live_url, world.carol, "/tablet/", {"width": 1280, "height": 800})
    tab.wait_for_selector(f"#major-panel [data-open-notice='{yellow.pk}']")
    # Only the casualties in this ambulance: the county's green rides in T-ALS-2.
    assert tab.query_selector(f"#major-panel [data-aboard='{green.pk}']") is None

    # An impossible reading: said on the tablet, nothing sent.
    form = fill_notice(
        tab,
        red.pk,
        chips=["head", "fracture"],
        text='右股骨开放性骨折 <script>x</script> & "头皮"',
        vitals={"heart_rate": 400},
    )
    tab.click(f"{form} button[type='submit']")
    wait_until(tab, f'document.querySelector("{form} .error").textContent.length > 0', seconds=5)
    assert CasualtyNotice.objects.count() == 0
    tab.fill(f"{form} input[name='heart_rate']", "132")
    tab.fill(f"{form} input[name='systolic_bp']", "84")
    tab.fill(f"{form} input[name='diastolic_bp']", "50")
    tab.fill(f"{form} input[name='spo2']", "90")
    tab.fill(f"{form} input[name='gcs']", "13")
    tab.check(f"{form} input[name='sex'][value='M']")
    tab.fill(f"{form} input[name='age_estimate']", "45")
    tab.click(f"{form} button[type='submit']")
    tab.wait_for_selector(f"#major-panel [data-aboard='{red.pk}'] .mp-sent")

    card = f"#er-major li[data-casualty='{red.pk}']"
    er.wait_for_selector(f"{card} .erm-vital.abnormal", timeout=20000)
    text = er.inner_text(card)
    assert "<script>x</script>" in text and "头部外伤" in text and "骨折" in text and "132" in text
    abnormal = er.eval_on_selector_all(f"{card} .erm-vital.abnormal b", "els => els.map(e => e.textContent)")
    assert sorted(abnormal) == sorted(["132", "84/50", "90", "13"])
    wait_until(er, "window.__chimes > 0", seconds=10)

    # The second casualty's notice, then the first's again with new readings.
    form = fill_notice(tab, yellow.pk, chips=["chest"], text="胸部挤压伤", vitals={"respiratory_rate": 32})
    tab.click(f"{form} button[type='submit']")
    er.wait_for_selector(f"#er-major li[data-casualty='{yellow.pk}'] .erm-vital.abnormal", timeout=20000)
    chimes = er.evaluate("window.__chimes")
    form = fill_notice(tab, red.pk)
    assert tab.input_value(f"{form} input[name='heart_rate']") == "132"  # the last notice, to correct
    tab.fill(f"{form} input[name='heart_rate']", "104")
    tab.click(f"{form} button[type='submit']")
    er.wait_for_selector(f"{card} .erm-updated", timeout=20000)
    assert "104" in er.inner_text(card) and "132" not in er.inner_text(card)
    wait_until(er, f"window.__chimes > {chimes}", seconds=10)
    assert CasualtyNotice.objects.get(casualty=red).version == 2
    assert CasualtyNotice.objects.count() == 2
    assert er.evaluate("window.notReloaded")

    SHOTS.mkdir(exist_ok=True)
    fill_notice(tab, yellow.pk)
    tab.screenshot(path=str(SHOTS / "tablet-notice-1280.png"), full_page=True)
    tab.set_viewport_size({"width": 390, "height": 844})
    tab.screenshot(path=str(SHOTS / "tablet-notice-390.png"), full_page=True)
    tab.locator(
        f"#major-panel form[data-notice-form='{yellow.pk}'] input[name='gcs']"
    ).scroll_into_view_if_needed()
    tab.screenshot(path=str(SHOTS / "tablet-notice-390-vitals.png"))
    er.screenshot(path=str(SHOTS / "er-notice-1920.png"), full_page=True)


def test_a_notice_that_got_no_answer_is_sent_again_by_itself(browser, live_url, world, crash):  # noqa: F811
    """The line drops as the crew sends a notice: the tablet says it is kept, and sends it again a
    few seconds later with no other tap (it used to wait for the next notice or an `online`
    event, which a tablet that never lost its network never fires); the hospital gets it once.
    The update that follows is dropped too, and is sent again the same way."""
    major = declare_major_incident(crash, level=3, actor=world.alice)
    dispatch_units(crash, [world.als1], actor=world.alice)
    on_shift(world.carol, world.als1)
    set_unit_status(world.als1, UnitStatus.ACKNOWLEDGED, actor=world.carol)
    red = register_casualty(major, tag="red", actor=world.alice)
    allocate_casualties(major, {red.pk: world.city.pk}, actor=world.alice)
    transport_casualties([red], Assignment.objects.get(incident=crash, unit=world.als1), actor=world.carol)
    tab = open_page(browser, live_url, world.carol, "/tablet/", {"width": 1280, "height": 800})
    tab.wait_for_selector(f"#major-panel [data-open-notice='{red.pk}']")
    posts: list[str] = []
    tab.on(
        "request", lambda r: posts.append(r.url) if r.method == "POST" and r.url.endswith("/notice") else None
    )
    dropped = drop_first_request(tab, "**/notice")
    form = fill_notice(tab, red.pk, chips=["head"], vitals={"heart_rate": 128})
    tab.click(f"{form} button[type='submit']")
    panel = "document.querySelector('#major-panel').textContent"
    wait_until(tab, f"{panel}.includes('无网络') || {panel}.includes('No network')", seconds=10)
    assert dropped and CasualtyNotice.objects.count() == 0
    SHOTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(SHOTS / "tablet-notice-waiting-1280.png"), full_page=True)
    tab.wait_for_selector(f"#major-panel [data-aboard='{red.pk}'] .mp-sent", timeout=15000)
    notice = CasualtyNotice.objects.get(casualty=red)
    assert notice.version == 1 and notice.heart_rate == 128
    assert len(posts) == 2  # the dropped one and its retry

    # The next send that gets no answer is kept and sent again the same way.
    again = drop_first_request(tab, "**/notice")
    form = fill_notice(tab, red.pk)
    tab.fill(f"{form} input[name='heart_rate']", "96")
    tab.click(f"{form} button[type='submit']")
    pump_until(tab, lambda: again, "the second send was not tried", seconds=10)
    pump_until(
        tab,
        lambda: CasualtyNotice.objects.get(casualty=red).version == 2,
        lambda: f"not sent again by itself; POSTs {len(posts)}",
        seconds=15,
    )
    assert CasualtyNotice.objects.get(casualty=red).heart_rate == 96
    assert len(posts) == 4
