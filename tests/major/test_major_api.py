"""The major-incident API as each role uses it: the control room declares, sends many units,
plans and allocates; a crew sent there registers and re-tags casualties and sees the picture, a
crew not sent there sees nothing; a hospital sees and acknowledges only its own patients. Bad
input is a 4xx that changes nothing."""

import json

import pytest
from django.test import Client

from dispatch.core.events import serialize_event
from dispatch.core.permissions import is_event_visible, visible_events
from dispatch.models import Casualty, Event, MajorIncident
from tests.support.roster import on_shift

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def post(client: Client, path: str, body: dict | None = None):
    return client.post(path, data=json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def declared(world, crash):
    """Declared, two ambulances sent (T-ALS-1 in command), carol crewing T-ALS-1."""
    dispatcher = as_user(world.alice)
    response = post(dispatcher, f"/api/incidents/{crash.pk}/major", {"level": 3, "casualties_reported": 8})
    assert response.status_code == 200, response.content
    major = response.json()
    sent = post(
        dispatcher,
        f"/api/incidents/{crash.pk}/dispatch-many",
        {"units": [world.als1.pk, world.als2.pk], "command_unit": world.als1.pk},
    )
    assert sent.status_code == 200, sent.content
    on_shift(world.carol, world.als1)
    return major


def test_a_crew_sent_there_registers_and_retags_a_crew_elsewhere_sees_nothing(world, crash, declared):
    carol = as_user(world.carol)
    first = post(carol, f"/api/major/{declared['id']}/casualties", {"tag": "red", "client_id": "t1-1"})
    assert first.status_code == 200 and first.json()["tag_number"] == "001"
    retry = post(carol, f"/api/major/{declared['id']}/casualties", {"tag": "red", "client_id": "t1-1"})
    assert retry.json()["id"] == first.json()["id"] and Casualty.objects.count() == 1
    retag = post(carol, f"/api/major/{declared['id']}/casualties/{first.json()['id']}/tag", {"tag": "yellow"})
    assert retag.status_code == 200 and retag.json()["tag"] == "yellow"
    board = carol.get(f"/api/major/{declared['id']}")
    assert board.status_code == 200 and board.json()["counts"]["yellow"]["total"] == 1
    assert board.json()["command_unit"] == "T-ALS-1"
    event = Event.objects.filter(kind="casualty.registered").get()
    assert event.unit == world.als1 and event.actor == world.carol
    # A crew on a unit not sent there: the incident does not exist for it.
    stranger = world.bls1.shifts.current().get().user
    other = as_user(stranger)
    assert other.get(f"/api/major/{declared['id']}").status_code == 404
    assert post(other, f"/api/major/{declared['id']}/casualties", {"tag": "red"}).status_code == 404
    assert Casualty.objects.count() == 1


def test_hospitals_see_and_acknowledge_only_their_own_patients(world, crash, declared):
    dispatcher = as_user(world.alice)
    ids = [
        post(dispatcher, f"/api/major/{declared['id']}/casualties", {"tag": tag}).json()["id"]
        for tag in ("red", "red", "green")
    ]
    allocations = [
        {"casualty": ids[0], "hospital": world.city.pk},
        {"casualty": ids[1], "hospital": world.county.pk},
        {"casualty": ids[2], "hospital": world.county.pk},
    ]
    done = post(dispatcher, f"/api/major/{declared['id']}/allocations", {"allocations": allocations})
    assert done.status_code == 200 and done.json()["unassigned"] == []
    city, county = as_user(world.dave), as_user(world.frank)
    mine = city.get("/api/hospital/major").json()
    assert [c["id"] for m in mine for c in m["casualties"]] == [ids[0]]
    theirs = county.get("/api/hospital/major").json()
    assert sorted(c["id"] for m in theirs for c in m["casualties"]) == ids[1:]
    # The county's patient does not exist for the city's nurse.
    assert post(city, f"/api/major/casualties/{ids[1]}/acknowledge").status_code == 404
    assert post(city, f"/api/major/casualties/{ids[0]}/acknowledge").status_code == 200
    assert city.get(f"/api/major/{declared['id']}").status_code == 404  # no whole picture
    # The socket's rule: the city's staff hear their own patient's events and no one else's.
    for event in Event.objects.filter(kind__startswith="casualty."):
        payload = serialize_event(event)
        assert is_event_visible(world.dave, payload) == (event.hospital_id == world.city.pk)
    assert set(
        visible_events(world.dave).filter(kind__startswith="casualty.").values_list("hospital_id", flat=True)
    ) == {world.city.pk}


def test_the_plan_then_accepted_as_the_dispatcher_changed_it(world, crash, declared):
    dispatcher = as_user(world.alice)
    for tag in ("red", "yellow", "green", "black"):
        post(dispatcher, f"/api/major/{declared['id']}/casualties", {"tag": tag})
    plan = dispatcher.get(f"/api/major/{declared['id']}/plan")
    assert plan.status_code == 200
    rows = plan.json()["allocations"]
    assert [r["tag"] for r in rows] == ["red", "yellow", "green", "black"]
    assert rows[-1]["hospital"] is None and rows[-1]["reason"] == "not_carried"
    assert plan.json()["unplaced"] == 0
    # The dispatcher sends the green to the county instead, and accepts the rest.
    chosen = [{"casualty": r["casualty"], "hospital": r["hospital"]} for r in rows if r["hospital"]]
    chosen[-1]["hospital"] = world.county.pk
    board = post(dispatcher, f"/api/major/{declared['id']}/allocations", {"allocations": chosen}).json()
    green = next(c for c in board["casualties"] if c["tag"] == "green")
    assert green["hospital"] == world.county.pk
    assert dispatcher.get(f"/api/major/{declared['id']}/plan").json()["allocations"] == [rows[-1]]


def test_bad_input_is_a_clear_4xx_and_changes_nothing(world, crash, declared):
    dispatcher, carol, dave = as_user(world.alice), as_user(world.carol), as_user(world.dave)
    base = f"/api/major/{declared['id']}"
    before = (Event.objects.count(), Casualty.objects.count())
    cases = [
        (dispatcher, f"{base}/casualties", {"tag": "purple"}, 422),
        (dispatcher, f"{base}/casualties", {"tag": "red", "description": "伤" * 301}, 422),
        (dispatcher, f"{base}/casualties", {"tag": "red", "age_estimate": -3}, 422),
        (dispatcher, f"{base}/casualties/999999/tag", {"tag": "red"}, 404),
        (dispatcher, "/api/major/999999/casualties", {"tag": "red"}, 404),
        (dispatcher, f"{base}/allocations", {"allocations": [{"casualty": 999999, "hospital": None}]}, 404),
        (dispatcher, f"/api/incidents/{crash.pk}/major", {"level": 3}, 409),
        (dispatcher, f"/api/incidents/{crash.pk}/major", {"level": 9}, 422),
        (dispatcher, f"/api/incidents/{crash.pk}/dispatch-many", {"units": [999999]}, 404),
        (dispatcher, f"/api/incidents/{crash.pk}/dispatch-many", {"units": [world.als1.pk]}, 409),
        (dispatcher, f"{base}/scene", {"staging_point": {"lon": 500, "lat": 24.9}}, 422),
        (carol, f"/api/incidents/{crash.pk}/major", {"level": 2}, 403),
        (carol, f"{base}/allocations", {"allocations": [{"casualty": 1, "hospital": None}]}, 403),
        (dave, f"{base}/casualties", {"tag": "red"}, 404),
    ]
    for client, path, body, status in cases:
        response = post(client, path, body)
        assert response.status_code == status, (path, body, response.content)
        assert "detail" in response.json() or "error" in response.json() or "code" in response.json()
    assert (Event.objects.count(), Casualty.objects.count()) == before
    assert dispatcher.patch(f"{base}/sitrep", data="{}", content_type="application/json").status_code == 422
    assert MajorIncident.objects.get().level == 3


def test_the_report_for_supervisors_and_dispatchers_not_crews_or_hospitals(world, crash, declared):
    base = f"/api/major/{declared['id']}/report"
    assert as_user(world.bob).get(base).status_code == 200
    report = as_user(world.alice).get(base).json()
    assert report["units_sent"] == 2 and report["casualties"] == 0
    assert as_user(world.carol).get(base).status_code == 403
    assert as_user(world.dave).get(base).status_code == 403


def test_a_crews_tablet_finds_its_major_incident_and_no_other(world, crash, declared):
    carol = as_user(world.carol)
    mine = carol.get("/api/major/mine").json()
    assert mine["major"]["id"] == declared["id"] and mine["assignment"] is not None
    stranger = as_user(world.bls1.shifts.current().get().user)  # on a unit not sent there
    assert stranger.get("/api/major/mine").json() == {"assignment": None, "major": None, "aboard": []}
    assert as_user(world.alice).get("/api/major/mine").status_code == 403
    assert as_user(world.dave).get("/api/major/mine").status_code == 403


def test_the_report_exports_as_csv_for_the_control_room_only(world, crash, declared):
    dispatcher = as_user(world.alice)
    post(dispatcher, f"/api/major/{declared['id']}/casualties", {"tag": "red", "tag_number": "=1+2"})
    post(dispatcher, f"/api/major/{declared['id']}/casualties", {"tag": "green"})
    response = dispatcher.get(f"/major/{declared['id']}/report.csv", headers={"Accept-Language": "zh-hans"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "120-major-" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    lines = text.splitlines()
    assert any(line.startswith("派出车辆,2") for line in lines)
    assert any(line.startswith("伤员,2") for line in lines)
    assert "'=1+2,红标（危重，立即处置）,在现场" in text  # a typed formula stays text
    assert as_user(world.carol).get(f"/major/{declared['id']}/report.csv").status_code == 403
    assert as_user(world.dave).get(f"/major/{declared['id']}/report.csv").status_code == 403
    assert dispatcher.get("/major/999999/report.csv").status_code == 404
