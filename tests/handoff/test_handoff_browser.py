"""End to end in Chromium: a crew taps "send pre-arrival notice" on the tablet, the ER board
shows it with a sound and a live countdown, a nurse acknowledges it, and the crew's tablet
shows who acknowledged and when, with a sound.
"""

import re

import pytest

from dispatch.models import NoticeAcknowledgement, PreArrivalNotice
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)
from tests.support.crew_tablet import post, signed_in
from tests.support.er_helpers import transporting
from tests.support.page_waits import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_board(browser, live_url, user):  # noqa: F811
    page = signed_in_page(browser, live_url, user, viewport={"width": 1400, "height": 900})
    page.add_init_script(
        "window.chimes = []; document.addEventListener('chime', (e) => window.chimes.push(e.detail));"
    )
    page.goto(f"{live_url}/er/")
    page.wait_for_selector("#er[data-ready='1']")
    return page


def open_tablet(browser, live_url, crew):  # noqa: F811
    page = signed_in_page(browser, live_url, crew, viewport={"width": 1280, "height": 800}, has_touch=True)
    page.add_init_script(
        "window.chimes = []; document.addEventListener('chime', (e) => window.chimes.push(e.detail));"
    )
    page.goto(f"{live_url}/tablet/")
    page.wait_for_selector("#tablet[data-ready='1'] #notice-line:not([hidden])")
    return page


def test_crew_notice_reaches_the_board_with_sound_and_the_ack_reaches_the_crew(
    browser,  # noqa: F811
    live_url,  # noqa: F811
    world,
    grid,
):
    world.dave.first_name = "护士张"
    world.dave.save()
    board = open_board(browser, live_url, world.dave)
    board.wait_for_selector(".er-empty:has-text('目前没有送往本院的病人')")

    assignment = transporting(world, world.als1, world.city, world.carol, complaint="胸痛 1 小时")
    tablet = signed_in(world.carol)
    base = f"/api/crew/assignments/{assignment.pk}"
    post(tablet, f"{base}/patient", {"age": 64, "sex": "M", "findings": "胸骨后压榨样疼痛"})
    post(tablet, f"{base}/vitals", {"heart_rate": 118, "systolic_bp": 92, "diastolic_bp": 60, "spo2": 93})
    crew_page = open_tablet(browser, live_url, world.carol)
    crew_page.wait_for_selector("#notice-line:has-text('预到院通知尚未发送')")
    crew_page.click("#send-notice")
    crew_page.wait_for_selector("#notice-line.sent:has-text('等待急诊确认')")
    sent = {"id": PreArrivalNotice.objects.get(assignment=assignment).pk}

    card = board.wait_for_selector(f"#notice-{sent['id']}.unacked")
    wait_until(board, "window.chimes.includes('notice')")
    text = card.inner_text()
    assert "胸痛 1 小时" in text and "T-ALS-1" in text and "118" in text and "64岁" in text
    countdown = board.inner_text(f"#notice-{sent['id']} .er-eta")
    assert re.fullmatch(r"约 ?\d+ ?分钟后到达|即将到达", countdown), countdown  # minutes left, not a clock

    board.click(f"#notice-{sent['id']} button.er-ack")
    board.wait_for_selector(f"#notice-{sent['id']}.acked:has-text('已确认')")
    assert NoticeAcknowledgement.objects.get().acknowledged_by == world.dave

    crew_page.wait_for_selector("#notice-line.acked:has-text('急诊已确认')")
    assert "护士张" in crew_page.inner_text("#notice-line")
    wait_until(crew_page, "window.chimes.includes('notice')")
    assert crew_page.is_hidden("#send-notice")  # nothing left to send once the ER has it
    seen = tablet.get("/api/crew/assignment").json()["assignment"]["notice"]
    assert seen["acknowledged_by"] == "护士张" and seen["acknowledged_at"]
