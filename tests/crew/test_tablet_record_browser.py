"""On the tablet the crew records the patient, takes repeated vital signs (latest first, with
their trend), talks with the dispatcher, and changes the destination hospital."""

import pytest

from dispatch.crew.actions import send_message
from dispatch.models import Assignment, Message, MessageDirection, PatientRecord, VitalSign
from dispatch.units.actions import set_unit_status
from fleet.models import UnitStatus
from tests.support.browser import browser, eventually, signed_in_page  # noqa: F401  (fixtures)
from tests.support.crew_tablet import job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_patient_vitals_messages_and_destination(browser, live_url, world):  # noqa: F811
    assignment = job(world, world.als1, hospital=world.city, crew=world.carol)
    set_unit_status(world.als1, UnitStatus.ACKNOWLEDGED, actor=world.carol)
    page = signed_in_page(browser, live_url, world.carol, viewport={"width": 1280, "height": 800})
    page.goto(f"{live_url}/tablet/")
    page.wait_for_selector("#tablet[data-ready='1'] #job:not([hidden])")

    # The alert-sound hint goes away at the first tap: it must not move the controls under it.
    moved = page.evaluate("""() => {
      const hint = document.getElementById("sound-hint"), tabs = document.getElementById("tabs");
      const was = hint.hidden;
      hint.hidden = false; const shown = tabs.getBoundingClientRect().top;
      hint.hidden = true; const gone = tabs.getBoundingClientRect().top;
      hint.hidden = was;
      return shown - gone;
    }""")
    assert moved == 0
    page.click("#tabs [data-tab='patient']")
    form = page.locator("#patient-form")
    form.locator("[name=name]").fill("王先生")
    form.locator("[name=age]").fill("64")
    form.locator("#sex label:has(input[value='M'])").click()
    form.locator("[name=findings]").fill("胸骨后压榨样疼痛 1 小时，大汗")
    form.locator("[name=interventions]").fill("心电监护，吸氧")
    page.fill("#drug-name", "阿司匹林")
    page.fill("#drug-dose", "300 mg")
    page.fill("#drug-route", "嚼服")
    page.click("#drug-add")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#patient-state:has-text('已保存')")
    record = PatientRecord.objects.get(assignment=assignment)
    assert (record.name, record.age, record.sex) == ("王先生", 64, "M")
    assert record.findings.startswith("胸骨后") and record.interventions == "心电监护，吸氧"
    assert [(d["name"], d["dose"], d["route"]) for d in record.drugs] == [("阿司匹林", "300 mg", "嚼服")]
    assert record.drugs[0]["given_at"] and record.client_time

    page.click("#tabs [data-tab='vitals']")
    for heart_rate in ("100", "124"):
        page.fill("#vitals-form [name=heart_rate]", heart_rate)
        page.click("#vitals-form button[type=submit]")
        page.wait_for_selector(f"#vitals-list li:not(.waiting):has-text('{heart_rate}')")
    assert "124" in page.inner_text("#vitals-list li:first-child")  # latest first
    assert page.locator("#vitals-list li:first-child .up").count() == 1
    assert page.locator("#trend .spark.s-heart_rate svg").count() == 1
    assert list(VitalSign.objects.order_by("taken_at").values_list("heart_rate", flat=True)) == [100, 124]
    page.fill("#vitals-form [name=spo2]", "140")
    page.click("#vitals-form button[type=submit]")
    assert "SpO₂" in page.inner_text("#vitals-error") and VitalSign.objects.count() == 2

    send_message(world.als1, "东门有保安带路", actor=world.alice)
    page.wait_for_selector("#unread:not([hidden])", timeout=20_000)
    page.click("#tabs [data-tab='messages']")
    page.wait_for_selector("#message-list li.to_crew:has-text('东门有保安带路')")
    assert eventually(lambda: Message.objects.get(direction=MessageDirection.TO_CREW).read_at)
    page.fill("#message-text", "收到，两分钟到")
    page.click("#message-form button[type=submit]")
    assert eventually(
        lambda: Message.objects.filter(direction=MessageDirection.TO_CONTROL, text="收到，两分钟到")
    )

    page.click("#tabs [data-tab='hospital']")
    page.click(f"#hospital-list [data-hospital='{world.county.pk}']")
    page.wait_for_selector(f"#destination:has-text('{world.county.name}')")
    assert Assignment.objects.get(pk=assignment.pk).hospital == world.county
