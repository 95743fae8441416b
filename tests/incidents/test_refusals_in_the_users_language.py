"""What the console shows when the server refuses is in the user's language: the actions'
refusals are translated (the override refusal was English on the Chinese console)."""

import json

import pytest

from dispatch.incidents.actions import create_incident, dispatch_unit
from tests.support.crew_tablet import signed_in


def post(client, url: str, body: dict, language: str) -> dict:
    response = client.post(
        url, json.dumps(body), content_type="application/json", headers={"Accept-Language": language}
    )
    assert 400 <= response.status_code < 500, response.content
    return response.json()


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", "请说明为何未选择首选推荐车辆"),
        ("en", "Say why you chose another unit than the first recommended."),
    ],
)
def test_the_override_refusal(world, language, words):
    incident = create_incident(actor=world.alice)
    body = {"unit": world.als2.pk, "recommended_rank": 2}
    error = post(signed_in(world.alice), f"/api/incidents/{incident.pk}/dispatch", body, language)
    assert error["code"] == "override_reason" and words in error["error"]


def test_a_busy_unit_a_closed_incident_and_a_bad_radio_status(world):
    alice = signed_in(world.alice)
    incident = create_incident(actor=world.alice)
    dispatch_unit(incident, world.als1, actor=world.alice)
    other = create_incident(actor=world.alice)
    busy = post(alice, f"/api/incidents/{other.pk}/dispatch", {"unit": world.als1.pk}, "zh-hans")
    assert busy["code"] == "unit_busy" and "T-ALS-1 当前不可派" in busy["error"]
    radio = post(alice, f"/api/units/{world.als1.pk}/status", {"status": "transporting"}, "zh-hans")
    assert radio["code"] == "bad_transition" and "T-ALS-1 不能从" in radio["error"]
    alice.post(
        f"/api/incidents/{other.pk}/close",
        json.dumps({"outcome": "false_call"}),
        content_type="application/json",
    )
    closed = post(
        alice, f"/api/incidents/{other.pk}/triage", {"priority": 1, "chief_complaint": "x"}, "zh-hans"
    )
    assert closed["code"] == "incident_closed" and "已结案" in closed["error"]
    stood = post(
        alice, f"/api/assignments/{incident.assignments.get().pk}/cancel", {"reason": " "}, "zh-hans"
    )
    assert stood["code"] == "reason_required" and "请说明取消出车的原因" in stood["error"]
