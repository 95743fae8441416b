"""The audit page in a real browser, in Chinese: the rows newest first, a filter typed into the
form (Chinese, quotes, %) narrows them, the CSV link carries the same filter, and the page
throws nothing. Screenshots go to $AUDIT_SCREENSHOTS when it is set (to look at the layout)."""

import os
import urllib.parse
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.support.audit_trail import audit_event
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SIZES = {"laptop": (1366, 768), "desktop": (1920, 1080), "tablet": (1280, 800), "phone": (390, 844)}


@pytest.fixture
def trail(world):
    start = datetime(2026, 3, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    at = iter(start + timedelta(minutes=7 * n) for n in range(20))
    audit_event("audit.signed_in", actor=world.erin, at=next(at), ip="10.0.0.1")
    audit_event("audit.sign_in_failed", at=next(at), username="bob", user=world.bob.pk, ip="10.0.0.9")
    edits = [
        ("dispatch.user", world.alice.pk, "alice", {"role": ["dispatcher", "supervisor"]}),
        (
            "hospitals.hospital",
            world.city.pk,
            "市第一人民医院",
            {"phone": ["", "+8659112345678"], "fhir_client_secret": "changed"},
        ),
        ("dispatch.place", 7, '明湾 50% "特价" 商场', {"name": ["明湾商场", '明湾 50% "特价" 商场']}),
        (
            "dispatch.triageprotocol",
            3,
            "胸痛",
            {"questions": ['{"start": "responsive", …', '{"start": "x", …']},
        ),
        ("dispatch.user", world.carol.pk, "carol", {"password": "changed"}),
    ]
    for model, pk, text, changes in edits:
        audit_event(
            "audit.admin_edit",
            actor=world.erin,
            at=next(at),
            action="changed",
            model=model,
            object_id=str(pk),
            object=text,
            changes=changes,
            username="erin",
        )
    audit_event("audit.signed_out", actor=world.erin, at=next(at), ip="10.0.0.1")


def test_the_audit_page_filters_as_typed(browser, live_url, world, trail):  # noqa: F811
    shots = os.environ.get("AUDIT_SCREENSHOTS")
    page = signed_in_page(browser, live_url, world.erin, viewport={"width": 1366, "height": 768})
    page.goto(f"{live_url}/audit/")
    rows = page.locator("#audit-table tbody tr")
    assert rows.count() == 8
    assert rows.first.locator("td").nth(1).inner_text() == "退出登录"  # newest first, in Chinese
    table = page.inner_text("#audit-table")
    assert "角色: 调度员 → 值班主任" in table and "登录失败" in table
    assert "已修改" in table  # the secret's line, never its value
    if shots:
        for name, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=str(Path(shots) / f"audit-{name}.png"), full_page=False)
        page.set_viewport_size({"width": 1366, "height": 768})

    page.fill("#audit-filter input[name=object]", '50% "特价"')
    page.select_option("#audit-filter select[name=kind]", "admin")
    with page.expect_navigation():
        page.click("#audit-filter button[type=submit]")
    assert rows.count() == 1 and '明湾 50% "特价" 商场' in rows.first.inner_text()
    csv_link = urllib.parse.unquote(page.get_attribute("#audit-csv", "href") or "")
    assert csv_link.startswith("/audit/export.csv?") and 'object=50% "特价"' in csv_link.replace("+", " ")
    assert "kind=admin" in csv_link
    if shots:
        page.screenshot(path=str(Path(shots) / "audit-filtered.png"))

    page.fill("#audit-filter input[name=user]", "没有这个人")
    with page.expect_navigation():
        page.click("#audit-filter button[type=submit]")
    assert page.is_visible("#audit-empty") and "没有符合这些条件的审计事件" in page.inner_text("#audit-empty")
    if shots:
        page.screenshot(path=str(Path(shots) / "audit-empty.png"))

    page.goto(f"{live_url}/audit/?from=%E4%B8%89%E6%9C%88")  # 三月: not a date
    assert "“起”必须是日期和时间" in page.inner_text("#audit-error")
    assert page.input_value("#audit-filter input[name=from]") == ""  # a date field cannot hold it
    if shots:
        page.screenshot(path=str(Path(shots) / "audit-bad-filter.png"))
