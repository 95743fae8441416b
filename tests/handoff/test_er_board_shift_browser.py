"""The ER board through a piece of a shift, in Chromium at 1920×1080: five notices on one page,
new, updated, redirected away, stood down and handed over. The countdown says minutes left and
the arrival time; the unit's phone is a tel: link; a withdrawn notice stays struck through
until a nurse acknowledges it; a handed-over patient stays with its care record; the crew and
the ER write to each other (odd characters arrive as written) and a crew message chimes. Then
the crew's side on the tablet."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from dispatch.crew.actions import record_vitals
from dispatch.handoff.actions import acknowledge_notice, record_arrival, record_handover, send_notice
from dispatch.incidents.actions import cancel_assignment, set_destination
from dispatch.models import Assignment, ErMessage, NoticeWithdrawal
from dispatch.registry.actions import create_unit
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)
from tests.support.crew_tablet import crew_member
from tests.support.er_board_world import ODD, get, patient_on_the_way, post, sweep
from tests.support.page_waits import wait_until
from tests.support.roster import on_shift

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENS = Path(settings.BASE_DIR) / "var" / "screens"
REPLY = "导管室已启动 <script>alert(1)</script> & «ready» 😀"


def open_board(browser, live_url, user, width=1920, height=1080):  # noqa: F811
    page = signed_in_page(browser, live_url, user, viewport={"width": width, "height": height})
    page.add_init_script(
        "window.chimes = []; document.addEventListener('chime', (e) => window.chimes.push(e.detail));"
    )
    page.goto(f"{live_url}/er/")
    page.wait_for_selector("#er[data-ready='1']")
    return page


@pytest.fixture
def shift(world, grid, triage_defaults):
    """Five patients bound for the city hospital, one per unit (a fifth unit added)."""
    world.als1.phone = "+8613900000001"
    world.als1.save()
    als3 = create_unit("T-ALS-3", "als", home_station=world.north)
    on_shift(crew_member("crew-t-als-3"), als3)
    crews = {u: crew_member(f"c-{u.call_sign.lower()}") for u in (world.als2, world.bls1, world.neg1, als3)}
    world.dave.first_name = "护士张"
    world.dave.save()
    world.crews = crews
    world.shift = {
        "updated": patient_on_the_way(
            world, world.als2, world.city, crews[world.als2], complaint="腹痛", name="甲"
        ),
        "redirected": patient_on_the_way(
            world, world.bls1, world.city, crews[world.bls1], complaint="跌倒", name="乙"
        ),
        "stood_down": patient_on_the_way(
            world, world.neg1, world.city, crews[world.neg1], complaint="发热", name="丙"
        ),
        "handed": patient_on_the_way(world, als3, world.city, crews[als3], complaint="卒中", name="丁"),
    }
    acknowledge_notice(world.shift["updated"], actor=world.dave)
    record_arrival(world.shift["handed"].assignment, actor=world.dave)
    return world


def test_a_run_of_notices_on_one_board(browser, live_url, shift):  # noqa: F811
    world, s = shift, shift.shift
    board = open_board(browser, live_url, world.dave)
    for n in s.values():
        board.wait_for_selector(f"#notice-{n.pk}")

    # live: a new notice, an update, a redirect, a stand-down, a handover
    new = patient_on_the_way(
        world, world.als1, world.city, world.carol, complaint="胸痛 1 小时", triaged=True
    )
    record_vitals(s["updated"].assignment, actor=world.crews[world.als2], heart_rate=130)
    send_notice(Assignment.objects.get(pk=s["updated"].assignment_id), actor=world.alice)
    set_destination(s["redirected"].assignment, world.county, actor=world.alice)
    cancel_assignment(s["stood_down"].assignment, actor=world.alice, reason="呼叫者取消")
    record_handover(Assignment.objects.get(pk=s["handed"].assignment_id), actor=world.dave)

    card = board.wait_for_selector(f"#notice-{new.pk}.unacked")
    wait_until(board, "window.chimes.includes('notice')")
    # 1. minutes left in words and the arrival clock, never a bare 20:38
    eta = card.query_selector(".er-eta").inner_text()
    assert re.fullmatch(r"约 ?\d+ ?分钟后到达|即将到达", eta), eta
    clock = card.query_selector(".er-eta-clock").inner_text()
    assert re.fullmatch(r"预计 \d\d:\d\d 到达", clock), clock
    (row,) = [r for r in get(world.dave, "/api/er/board")[1]["notices"] if r["id"] == new.pk]
    if row["eta"]["seconds"] > 30:
        assert int(re.search(r"\d+", eta).group()) in range(
            max(1, round(row["eta"]["seconds"] / 60) - 1), round(row["eta"]["seconds"] / 60) + 2
        )
    # 2. the ambulance's phone, to call it from the card
    assert card.query_selector("a.er-call").get_attribute("href") == "tel:+8613900000001"
    assert "呼叫 T-ALS-1" in card.inner_text() and "无回拨号码" not in board.inner_text("#er-list")
    assert "13800138000" not in board.inner_text("#er-list")  # never the caller, for a hospital
    # 4. the dispatcher's triage in words
    assert "胸痛" in card.inner_text() and "清醒，呼吸正常" in card.inner_text()

    board.wait_for_selector(f"#notice-{s['updated'].pk} .tag.updated")
    # 3. withdrawn: struck through, with where the patient goes instead, until acknowledged
    redirected = board.wait_for_selector(f"#withdrawn-{s['redirected'].pk}")
    assert "已撤回 · 改送县人民医院" in redirected.inner_text()
    assert redirected.query_selector(".er-title.struck") and "乙" not in redirected.inner_text()
    stood_down = board.wait_for_selector(f"#withdrawn-{s['stood_down'].pk}")
    assert "已撤回 · 救护车已撤销" in stood_down.inner_text()
    assert board.query_selector(f"#notice-{s['redirected'].pk}") is None
    sweep()  # the handoff loop moves the redirected notice on: the card stays
    board.wait_for_timeout(500)
    assert board.query_selector(f"#withdrawn-{s['redirected'].pk}")
    # 5. handed over: in its own section with the care record
    done = board.wait_for_selector(f"#handed-{s['handed'].pk}")
    assert "卒中" in done.inner_text()
    assert done.query_selector("[data-record]").get_attribute("href") == f"/er/records/{s['handed'].pk}/"
    assert (
        done.query_selector("[data-record-pdf]").get_attribute("href") == f"/er/records/{s['handed'].pk}.pdf"
    )

    # the crew writes to the ER: it chimes and reads as written
    status, _ = post(world.carol, f"/api/crew/assignments/{new.assignment_id}/er-messages", {"text": ODD})
    assert status == 201
    line = board.wait_for_selector(f"#notice-{new.pk} .er-msg.from-crew")
    wait_until(board, "window.chimes.includes('message')")
    assert line.query_selector(".er-msg-text").inner_text() == ODD.strip()
    assert line.query_selector(".er-msg-text b") is None  # text, not markup

    SCREENS.mkdir(parents=True, exist_ok=True)
    board.screenshot(path=str(SCREENS / "er_board_shift_1920x1080.png"))
    board.evaluate("document.querySelector('.er-incoming').scrollTop = 1e6")
    board.screenshot(path=str(SCREENS / "er_board_shift_1920x1080_bottom.png"))
    board.evaluate("document.querySelector('.er-incoming').scrollTop = 0")

    # the ER answers: the crew's line has it, exactly
    board.fill(f"form[data-reply='{new.pk}'] input", REPLY)
    board.click(f"form[data-reply='{new.pk}'] button")
    board.wait_for_selector(f"#notice-{new.pk} .er-msg.from-er")
    assert ErMessage.objects.get(direction="to_crew").text == REPLY
    crew_line = get(world.carol, "/api/crew/er-line")[1]
    assert [m["text"] for m in crew_line["messages"]] == [ODD.strip(), REPLY]
    assert board.evaluate("document.querySelectorAll('.er-msg script').length") == 0

    # acknowledging the withdrawals takes the cards off, for good
    board.click(f"#withdrawn-{s['redirected'].pk} button.er-ack-withdrawal")
    board.wait_for_selector(f"#withdrawn-{s['redirected'].pk}", state="detached")
    board.click(f"#withdrawn-{s['stood_down'].pk} button.er-ack-withdrawal")
    board.wait_for_selector(f"#withdrawn-{s['stood_down'].pk}", state="detached")
    assert NoticeWithdrawal.objects.filter(acknowledged_by=world.dave).count() == 2
    board.reload()
    board.wait_for_selector("#er[data-ready='1']")
    assert board.query_selector(".er-card.withdrawn") is None

    # the record opens from the board, in the hospital's own session
    board.goto(f"{live_url}/er/records/{s['handed'].pk}/")
    assert "院前急救病历" in board.inner_text("#care-record") and "卒中" in board.inner_text("#care-record")
    board.screenshot(path=str(SCREENS / "er_care_record_1920x1080.png"), full_page=True)


def test_another_hospitals_board_shows_none_of_it(browser, live_url, shift):  # noqa: F811
    world, s = shift, shift.shift
    cancel_assignment(s["stood_down"].assignment, actor=world.alice, reason="x")
    board = open_board(browser, live_url, world.frank)
    board.wait_for_selector(".er-empty")
    text = board.inner_text("#er")
    assert "发热" not in text and "T-NEG-1" not in text and board.query_selector(".er-card.withdrawn") is None
    board.goto(f"{live_url}/er/records/{s['handed'].pk}/")
    assert "院前急救病历" not in board.content()


@pytest.mark.parametrize("width, height", [(1280, 800), (390, 844)])
def test_the_crew_writes_to_the_er_from_the_tablet(browser, live_url, world, grid, width, height):  # noqa: F811
    notice = patient_on_the_way(world, world.als1, world.city, world.carol, complaint="胸痛")
    post(world.dave, f"/api/er/notices/{notice.pk}/messages", {"text": "请直接进抢救室 2"})
    tablet = signed_in_page(
        browser, live_url, world.carol, viewport={"width": width, "height": height}, has_touch=True
    )
    tablet.goto(f"{live_url}/tablet/")
    panel = tablet.wait_for_selector("#er-line:not([hidden])")
    assert "市第一人民医院急诊" in panel.inner_text() and "请直接进抢救室 2" in panel.inner_text()
    tablet.fill("#er-line-text", ODD)
    tablet.click("#er-line-form button")
    tablet.wait_for_selector(f"#er-line-list li.to_control:has-text('{ODD.strip()[:5]}')")
    assert ErMessage.objects.get(direction="to_er").text == ODD.strip()
    (row,) = get(world.dave, "/api/er/board")[1]["notices"]
    assert [m["direction"] for m in row["messages"]] == ["to_crew", "to_er"]
    SCREENS.mkdir(parents=True, exist_ok=True)
    panel.scroll_into_view_if_needed()
    tablet.screenshot(path=str(SCREENS / f"tablet_er_line_{width}x{height}.png"))


def test_the_board_in_english_at_1366x768(browser, live_url, shift):  # noqa: F811
    world, s = shift, shift.shift
    cancel_assignment(s["stood_down"].assignment, actor=world.alice, reason="cancelled by caller")
    page = signed_in_page(browser, live_url, world.dave, viewport={"width": 1366, "height": 768})
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_url}])
    page.goto(f"{live_url}/er/")
    page.wait_for_selector("#er[data-ready='1']")
    card = page.wait_for_selector(f"#notice-{s['updated'].pk}")
    assert re.fullmatch(r"ETA ?\d+ ?min|arriving now", card.query_selector(".er-eta").inner_text())
    assert re.fullmatch(r"arrives at \d\d:\d\d", card.query_selector(".er-eta-clock").inner_text())
    assert "Withdrawn · ambulance stood down" in page.inner_text(f"#withdrawn-{s['stood_down'].pk}")
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "er_board_en_1366x768.png"))
