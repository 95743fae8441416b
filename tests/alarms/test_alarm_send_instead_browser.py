"""A unit that has not acknowledged its job 60 s after dispatch: the console's alarm offers
"send another unit instead", which opens the console's own reassign dialog (the unit alarmed
about is not offered, a reason is asked); once sent, the first unit is stood down, the other
sent, and the scanner's next pass clears the alarm. The SMS and voice steps before it show on
the incident's timeline in words."""

from datetime import timedelta
from pathlib import Path

import pytest

from dispatch.alarms.scanner import escalate, scan
from dispatch.models import Alarm, AlarmKind, Assignment
from fleet.models import Unit
from tests.support.alarm_helpers import alarm_console
from tests.support.browser import browser  # noqa: F401  (fixtures)
from tests.support.console_desk import Desk, no_browser_dialogs
from tests.support.crew_tablet import job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/alarm-shots")


def test_the_alarm_sends_another_unit_instead(browser, live_url, world, settings):  # noqa: F811
    settings.TARGET_UNIT_ACK_SECONDS, settings.TARGET_TURNOUT_SECONDS = 60, 180
    settings.CREW_ALERT_SMS_AFTER_SECONDS = settings.CREW_ALERT_VOICE_AFTER_SECONDS = 30
    Unit.objects.filter(pk=world.als1.pk).update(phone="+8613911112222")
    a = job(world, world.als1, hospital=world.city)
    escalate(now=a.dispatched_at + timedelta(seconds=31))
    scan(now=a.dispatched_at + timedelta(seconds=61))
    alarm = Alarm.objects.get(kind=AlarmKind.UNIT_NOT_ACKNOWLEDGING)

    page = alarm_console(browser, live_url, world.alice)
    prompts = no_browser_dialogs(page)
    row = page.wait_for_selector(f"#alarm-{alarm.pk} .alarm-instead")
    assert row.inner_text() == "改派其他车辆"
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "send-instead-alarm.png"))
    page.click(f"#alarm-{alarm.pk} .alarm-instead")
    page.wait_for_selector("#choice-dialog[open] .choices li")
    assert "T-ALS-1" in page.inner_text("#choice-dialog h2, #choice-dialog")  # the title names it
    labels = page.locator("#choice-dialog .choice-label").all_inner_texts()
    assert labels and not any(label.startswith("T-ALS-1") for label in labels)
    pick = next(i for i, label in enumerate(labels, 1) if label.startswith("T-ALS-2"))
    # The incident is shown behind the dialog, with the SMS and the call on its timeline.
    page.wait_for_selector("#timeline li:has-text('已向 T-ALS-1 发送短信（派车 30 秒未确认）')")
    page.wait_for_selector("#timeline li:has-text('已向 T-ALS-1 拨打语音电话')")
    page.screenshot(path=str(SHOTS / "send-instead-dialog.png"))
    Desk(page).choose(str(pick), text="T-ALS-1 未应答")
    page.wait_for_selector("#detail .assignments li.live:has-text('T-ALS-2')")
    new = Assignment.objects.get(incident_id=a.incident_id, cancelled_at__isnull=True)
    assert new.unit == world.als2 and new.hospital == world.city
    assert Assignment.objects.get(pk=a.pk).cancel_reason == "T-ALS-1 未应答"
    scan()
    page.wait_for_selector(f"#alarm-{alarm.pk}", state="detached")
    assert prompts == []
