"""The console's SMS reach only the incident's caller or a crew member on shift, at most
RATE_LIMIT_SMS a minute per dispatcher; a call gets at most LOCATION_LINKS_PER_CALL location
links. Every refusal is a clear 4xx in the user's language and writes nothing."""

import json
from types import SimpleNamespace

import pytest
from django.test import Client

from dispatch.calls.actions import call_incident
from dispatch.core import ratelimit
from dispatch.models import Event, LocationLink, Outbox, Role, User
from tests.support.calls_helpers import taken_call
from tests.support.roster import on_shift

pytestmark = pytest.mark.django_db

CALLER = "+8613912345678"  # taken_call's caller


def sms(user: User, body: dict, language: str = "en"):
    client = Client()
    client.force_login(user)
    return client.post(
        "/api/sms", json.dumps(body), content_type="application/json", headers={"Accept-Language": language}
    )


def texts() -> list[str]:
    return list(Outbox.objects.filter(channel="sms").order_by("pk").values_list("recipient", flat=True))


def test_the_callers_own_number_in_any_form_is_allowed(world):
    incident = call_incident(taken_call(world))
    for to in (CALLER, "13912345678", "0086 139-1234-5678"):
        response = sms(
            world.alice, {"to": to, "body": "救护车已出发 <请> 保持电话畅通", "incident": incident.pk}
        )
        assert response.status_code == 202, response.content
    assert texts() == [CALLER] * 3


def test_a_number_typed_on_the_incident_is_the_callers_too(world):
    incident = call_incident(taken_call(world))
    from dispatch.incidents.actions import update_incident_details

    update_incident_details(incident, actor=world.alice, caller_number="13700001111")
    response = sms(world.alice, {"to": "+8613700001111", "body": "x", "incident": incident.pk})
    assert response.status_code == 202, response.content


def test_any_other_number_is_refused_and_nothing_is_queued(world):
    incident = call_incident(taken_call(world))
    events = Event.objects.count()
    for body in (
        {"to": "+8613800000000", "body": "中奖了！点击领取", "incident": incident.pk},
        {"to": "+8613800000000", "body": "x"},  # no incident: crews only
        {"to": CALLER, "body": "x"},  # the caller, but of no incident named
    ):
        response = sms(world.alice, body)
        assert response.status_code == 422, response.content
        answer = response.json()
        assert answer["code"] == "recipient_not_allowed"
        assert "only go to this incident's caller or to a crew member on shift" in answer["error"]
    chinese = sms(world.alice, {"to": "+8613800000000", "body": "x"}, language="zh-hans").json()
    assert chinese["code"] == "recipient_not_allowed" and "当班" in chinese["error"]
    assert texts() == [] and Event.objects.count() == events


def test_another_incidents_caller_is_not_this_incidents(world):
    incident = call_incident(taken_call(world))
    from dispatch.incidents.actions import create_incident

    other = create_incident(actor=world.alice, caller_number="+8613600006666")
    response = sms(world.alice, {"to": "+8613600006666", "body": "x", "incident": incident.pk})
    assert response.status_code == 422
    assert sms(world.alice, {"to": "+8613600006666", "body": "x", "incident": other.pk}).status_code == 202


def test_a_crew_member_on_shift_may_be_texted_and_one_off_shift_not(world):
    world.carol.phone = "+8613511112222"
    world.carol.save(update_fields=["phone"])
    off = User.objects.create_user("olga", role=Role.CREW, phone="+8613533334444")
    assert sms(world.alice, {"to": "13511112222", "body": "x"}).status_code == 422  # not on shift yet
    on_shift(world.carol, world.als1)
    assert sms(world.alice, {"to": "13511112222", "body": "请回电"}).status_code == 202
    assert sms(world.alice, {"to": off.phone, "body": "x"}).status_code == 422
    assert texts() == ["+8613511112222"]


def test_each_dispatcher_has_ten_sms_a_minute(world, settings, monkeypatch):
    settings.RATE_LIMITS_PER_MINUTE = {**settings.RATE_LIMITS_PER_MINUTE, "sms": 10}
    # all in one one-minute window (the counter's), whenever the test runs
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_796_000_010.0))
    incident = call_incident(taken_call(world))
    body = {"to": CALLER, "body": "x", "incident": incident.pk}
    assert [sms(world.alice, body).status_code for _ in range(10)] == [202] * 10
    refused = sms(world.alice, body)
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert refused["Retry-After"] == "30"  # the window's end, 30 s on
    assert "at most 10 a minute each. Try again in 30 seconds." in refused.json()["error"]
    chinese = sms(world.alice, body, language="zh-hans").json()["error"]
    assert "10" in chinese and "分钟" in chinese
    assert len(texts()) == 10
    # the limit is per user: bob, the supervisor, still sends
    assert sms(world.bob, body).status_code == 202


def send_link(user: User, call_id: int, language: str = "en"):
    client = Client()
    client.force_login(user)
    return client.post(f"/api/calls/{call_id}/location-link", headers={"Accept-Language": language})


def test_a_call_gets_three_location_links_and_a_clear_refusal_for_the_fourth(world):
    call = taken_call(world)
    assert [send_link(world.alice, call.pk).status_code for _ in range(3)] == [201] * 3
    refused = send_link(world.bob, call.pk)
    assert refused.status_code == 409 and refused.json()["code"] == "too_many_links"
    assert "3 location links were already sent for this call" in refused.json()["error"]
    chinese = send_link(world.alice, call.pk, language="zh-hans").json()["error"]
    assert "3" in chinese and "位置链接" in chinese
    assert LocationLink.objects.filter(call=call).count() == 3 and len(texts()) == 3


def test_the_link_cap_is_a_setting(world, settings):
    settings.LOCATION_LINKS_PER_CALL = 1
    call = taken_call(world)
    assert send_link(world.alice, call.pk).status_code == 201
    assert send_link(world.alice, call.pk).status_code == 409
    assert LocationLink.objects.count() == 1
