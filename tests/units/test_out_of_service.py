"""A unit stood down for a vehicle fault is out of service with the reason and the expected
return: never offered by the recommendation (listed last with both), refused by dispatch, back
only through back-in-service. The control room (dispatchers, supervisors) does it through the
API; a unit on a job is refused with 409 and nothing changes."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from dispatch.core.actions import ActionError
from dispatch.incidents.actions import create_incident, dispatch_unit
from dispatch.models import Event
from dispatch.recommend.reads import recommend_units
from dispatch.units.actions import return_to_service, set_unit_status, take_out_of_service
from fleet.models import Unit, UnitStatus
from fleet.roads.store import save_network
from tests.support.road_grids import SCENE, river_city


def post(client: Client, url: str, body: dict | None = None) -> tuple[int, dict]:
    response = client.post(
        url, json.dumps(body or {}), content_type="application/json", headers={"Accept-Language": "en"}
    )
    return response.status_code, response.json()


def out_url(unit: Unit) -> str:
    return f"/api/units/{unit.pk}/out-of-service"


def back_url(unit: Unit) -> str:
    return f"/api/units/{unit.pk}/back-in-service"


def unit_events(unit: Unit) -> list[dict]:
    return list(
        Event.objects.filter(unit=unit, kind="unit.status").order_by("seq").values_list("data", flat=True)
    )


def test_a_dispatcher_takes_a_unit_out_of_service_with_reason_and_expected_return(client, world) -> None:
    client.force_login(world.alice)
    back = (timezone.now() + timedelta(hours=2)).replace(microsecond=0)
    status, row = post(
        client,
        out_url(world.als1),
        {"reason": "车辆故障 <刹车> & 'ABS'", "expected_back_at": back.isoformat()},
    )
    assert status == 200, row
    assert row["status"] == "out_of_service" and row["out_of_service_reason"] == "车辆故障 <刹车> & 'ABS'"
    assert row["expected_back_at"] is not None and row["crew_on_shift"] is True
    world.als1.refresh_from_db()
    assert world.als1.status == UnitStatus.OUT_OF_SERVICE and world.als1.expected_back_at == back
    event = unit_events(world.als1)[-1]
    assert (event["from"], event["to"]) == ("available", "out_of_service")
    assert event["reason"] == "车辆故障 <刹车> & 'ABS'" and event["expected_back_at"] == back.isoformat()
    assert Event.objects.filter(unit=world.als1, kind="unit.status").latest("seq").actor == world.alice
    # the unit board shows it
    rows = {r["call_sign"]: r for r in client.get("/api/units").json()}
    assert rows["T-ALS-1"]["out_of_service_reason"] == "车辆故障 <刹车> & 'ABS'"
    assert rows["T-ALS-2"]["out_of_service_reason"] == "" and rows["T-ALS-2"]["expected_back_at"] is None
    assert all(r["crew_on_shift"] for r in rows.values())


def test_back_in_service_clears_the_reason_and_only_once(client, world) -> None:
    take_out_of_service(world.bls1, "换轮胎", timezone.now() + timedelta(minutes=30), actor=world.alice)
    client.force_login(world.bob)  # a supervisor may too
    status, row = post(client, back_url(world.bls1))
    assert status == 200 and row["status"] == "available"
    assert row["out_of_service_reason"] == "" and row["expected_back_at"] is None
    assert unit_events(world.bls1)[-1]["to"] == "available"
    before = Event.objects.count()
    status, body = post(client, back_url(world.bls1))
    assert status == 409 and body["code"] == "not_out_of_service" and "not out of service" in body["error"]
    assert Event.objects.count() == before


def test_a_new_reason_replaces_the_old_one(world) -> None:
    take_out_of_service(world.neg1, "消毒", timezone.now() + timedelta(hours=1), actor=world.alice)
    take_out_of_service(world.neg1, "消毒延长", None, actor=world.bob)
    world.neg1.refresh_from_db()
    assert world.neg1.out_of_service_reason == "消毒延长" and world.neg1.expected_back_at is None
    assert [(e["from"], e["to"]) for e in unit_events(world.neg1)] == [
        ("available", "out_of_service"),
        ("out_of_service", "out_of_service"),
    ]


def test_a_unit_on_a_job_is_refused_and_nothing_changes(client, world) -> None:
    incident = create_incident(actor=world.alice, location=SCENE, location_source="pin")
    dispatch_unit(incident, world.als2, actor=world.alice)
    client.force_login(world.alice)
    before = Event.objects.count()
    status, body = post(client, out_url(world.als2), {"reason": "车辆故障"})
    assert status == 409 and body["code"] == "unit_on_job" and "T-ALS-2 is on a job" in body["error"]
    world.als2.refresh_from_db()
    assert world.als2.status == UnitStatus.DISPATCHED and world.als2.out_of_service_reason == ""
    assert Event.objects.count() == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reason": ""},
        {"reason": "   "},
        {"reason": "x" * 121},
        {"reason": "车辆故障", "expected_back_at": "2020-01-01T08:00:00+08:00"},
        {"reason": "车辆故障", "expected_back_at": "2999-01-01T08:00:00+08:00"},
        {"reason": "车辆故障", "expected_back_at": "tomorrow"},
        {"reason": 5},
    ],
)
def test_bad_input_is_refused_with_422_and_changes_nothing(client, world, body) -> None:
    client.force_login(world.alice)
    before = Event.objects.count()
    status, answer = post(client, out_url(world.als1), body)
    assert status == 422, answer
    world.als1.refresh_from_db()
    assert world.als1.status == UnitStatus.AVAILABLE and Event.objects.count() == before


def test_only_dispatchers_and_supervisors_may(client, world) -> None:
    take_out_of_service(world.bls1, "车辆故障", actor=world.alice)
    for user in (world.carol, world.dave, world.erin):
        client.force_login(user)
        assert post(client, out_url(world.als1), {"reason": "车辆故障"})[0] == 403
        assert post(client, back_url(world.bls1))[0] == 403
    client.logout()
    assert post(client, out_url(world.als1), {"reason": "车辆故障"})[0] == 401
    client.force_login(world.alice)
    assert post(client, "/api/units/999999/out-of-service", {"reason": "车辆故障"})[0] == 404
    world.als1.refresh_from_db(), world.bls1.refresh_from_db()
    assert world.als1.status == UnitStatus.AVAILABLE and world.bls1.status == UnitStatus.OUT_OF_SERVICE


def test_dispatch_refuses_an_out_of_service_unit(world) -> None:
    take_out_of_service(world.als1, "车辆故障", actor=world.alice)
    incident = create_incident(actor=world.alice, location=SCENE, location_source="pin")
    with pytest.raises(ActionError) as refused:
        dispatch_unit(incident, world.als1, actor=world.alice)
    assert refused.value.status == 409 and refused.value.code == "unit_busy"
    return_to_service(world.als1, actor=world.alice)
    assert dispatch_unit(incident, world.als1, actor=world.alice).unit == world.als1


def test_a_crew_bringing_the_unit_back_on_the_tablet_clears_the_reason(world) -> None:
    take_out_of_service(world.bls1, "车辆故障", timezone.now() + timedelta(hours=1), actor=world.alice)
    set_unit_status(world.bls1, UnitStatus.AVAILABLE, actor=world.carol)
    world.bls1.refresh_from_db()
    assert world.bls1.out_of_service_reason == "" and world.bls1.expected_back_at is None


@pytest.mark.django_db(transaction=True)
def test_the_recommendation_lists_it_last_with_the_reason_and_the_return(fresh_router, world) -> None:
    save_network(river_city(), "river city", "tests/units/test_out_of_service.py")
    now = timezone.now()
    back = timezone.localtime(now + timedelta(hours=2))
    take_out_of_service(world.als1, "车辆故障", back, actor=world.alice)
    result = recommend_units(SCENE, "als", now=now)
    assert [u.call_sign for u in result.units] == ["T-ALS-2", "T-NEG-1", "T-BLS-1", "T-ALS-1"]
    last = result.units[-1]
    assert not last.dispatchable and last.status == "out_of_service"
    assert last.out_of_service_reason == "车辆故障" and last.expected_back_at == back
    at = f"{back:%H:%M}" if back.date() == timezone.localtime(now).date() else f"{back.day} "
    assert last.reasons[0].en.startswith(f"out of service: 车辆故障; expected back {at}")
    assert last.reasons[0].zh.startswith("停用：车辆故障；预计 ")
    # past the expected return it says by how much it is overdue
    late = recommend_units(SCENE, "als", now=now + timedelta(hours=3)).units[-1]
    assert late.reasons[0].en.endswith("(1 h 0 min overdue)")
    assert "已超时 1小时0分" in late.reasons[0].zh
    return_to_service(world.als1, actor=world.alice)
    assert recommend_units(SCENE, "als").units[0].call_sign == "T-ALS-1"
