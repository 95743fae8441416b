"""Pre-arrival notices per casualty (群体伤分伤员预到院通知): the crew carrying a casualty sends its
injuries and vital signs to the casualty's destination, re-sends update it, and each ER sees only
its own patients' notices, in the API, the queries and the socket alike. Bad input is a clear 4xx
that writes nothing; a retry with the same client id adds nothing."""

import json

import pytest
from django.test import Client

from dispatch.core.events import serialize_event
from dispatch.core.permissions import crew_unit_id, is_event_visible, visible_events
from dispatch.major import actions
from dispatch.models import Casualty, CasualtyNotice, Event, MajorIncident
from tests.support.roster import on_shift

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def post(client: Client, path: str, body: dict | None = None):
    return client.post(path, data=json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def loaded(world, crash):
    """Declared, T-ALS-1 (carol) and T-ALS-2 (its own crew) sent; casualties 001 (red, city) and
    002 (yellow, county) in T-ALS-1, 003 (green, county) in T-ALS-2, 004 (red, city) still at
    the scene, 005 (green) in T-ALS-1 with no destination (the ambulance has none)."""
    dispatcher = as_user(world.alice)
    major = post(dispatcher, f"/api/incidents/{crash.pk}/major", {"level": 3}).json()
    sent = post(
        dispatcher, f"/api/incidents/{crash.pk}/dispatch-many", {"units": [world.als1.pk, world.als2.pk]}
    )
    assert sent.status_code == 200, sent.content
    on_shift(world.carol, world.als1)
    base = f"/api/major/{major['id']}"
    ids = [
        post(dispatcher, f"{base}/casualties", {"tag": t}).json()["id"]
        for t in ("red", "yellow", "green", "red", "green")
    ]
    hospitals = [world.city.pk, world.county.pk, world.county.pk, world.city.pk]
    allocations = [{"casualty": c, "hospital": h} for c, h in zip(ids, hospitals, strict=False)]
    assert post(dispatcher, f"{base}/allocations", {"allocations": allocations}).status_code == 200
    jobs = dict(zip(sent.json()["units"], sent.json()["assignments"], strict=True))
    for unit, casualties in (("T-ALS-1", [ids[0], ids[1], ids[4]]), ("T-ALS-2", [ids[2]])):
        moved = post(dispatcher, f"{base}/transport", {"assignment": jobs[unit], "casualties": casualties})
        assert moved.status_code == 200, moved.content
    return {"major": major["id"], "ids": ids, "jobs": jobs}


def notice(client_id: str, **fields) -> dict:
    return {"client_id": client_id, **fields}


FULL = {
    "sex": "M",
    "age_estimate": 45,
    "injuries": "右股骨开放性骨折，头皮裂伤 <b>",
    "chips": ["fracture", "head"],
    "heart_rate": 128,
    "systolic_bp": 86,
    "diastolic_bp": 50,
    "spo2": 91,
    "respiratory_rate": 24,
    "gcs": 14,
}


def test_a_crew_sends_a_notice_for_each_casualty_in_its_ambulance_and_a_resend_updates_it(world, loaded):
    carol = as_user(world.carol)
    red, yellow = loaded["ids"][0], loaded["ids"][1]
    first = post(carol, f"/api/major/casualties/{red}/notice", notice("tab-00000001", **FULL))
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["hospital"] == world.city.pk and body["notice"]["version"] == 1
    assert body["notice"]["vitals"]["heart_rate"] == 128 and body["notice"]["unit"] == "T-ALS-1"
    # Outside the adult normal range: HR 128, SBP 86, SpO2 91; RR 24 and GCS 14 are within.
    assert sorted(body["notice"]["abnormal"]) == ["heart_rate", "spo2", "systolic_bp"]
    second = post(
        carol,
        f"/api/major/casualties/{yellow}/notice",
        notice("tab-00000002", injuries="胸部挤压伤", chips=["chest"]),
    )
    assert second.status_code == 200 and second.json()["hospital"] == world.county.pk
    # Re-sent with new readings: the same notice, version 2, the new values only.
    again = post(
        carol,
        f"/api/major/casualties/{red}/notice",
        notice("tab-00000003", injuries="右股骨开放性骨折", heart_rate=110, systolic_bp=100, diastolic_bp=60),
    )
    assert again.status_code == 200 and again.json()["notice"]["version"] == 2
    assert again.json()["notice"]["vitals"]["spo2"] is None and again.json()["notice"]["abnormal"] == []
    assert CasualtyNotice.objects.count() == 2
    casualty = Casualty.objects.get(pk=red)
    assert (casualty.sex, casualty.age_estimate) == ("M", 45)  # kept: the re-send gave none
    events = Event.objects.filter(kind="casualty.notice").order_by("seq")
    assert [(e.hospital_id, e.unit_id, e.data["version"]) for e in events] == [
        (world.city.pk, world.als1.pk, 1),
        (world.county.pk, world.als1.pk, 1),
        (world.city.pk, world.als1.pk, 2),
    ]
    # The tablet's own view: the casualties in its ambulance with their notices.
    mine = carol.get("/api/major/mine").json()
    assert [c["id"] for c in mine["aboard"]] == [red, yellow, loaded["ids"][4]]
    assert mine["aboard"][0]["notice"]["version"] == 2 and mine["aboard"][2]["notice"] is None


def test_a_retry_with_the_same_client_id_adds_nothing(world, loaded):
    carol = as_user(world.carol)
    red = loaded["ids"][0]
    first = post(carol, f"/api/major/casualties/{red}/notice", notice("tab-retry-0001", **FULL))
    retry = post(carol, f"/api/major/casualties/{red}/notice", notice("tab-retry-0001", **FULL))
    assert retry.status_code == 200 and retry["Idempotent-Replay"] == "true"
    assert retry.json() == first.json()
    assert CasualtyNotice.objects.get().version == 1
    assert Event.objects.filter(kind="casualty.notice").count() == 1
    # The same id for another request is refused, not applied.
    other = post(carol, f"/api/major/casualties/{red}/notice", notice("tab-retry-0001", heart_rate=60))
    assert other.status_code == 422 and CasualtyNotice.objects.get().version == 1


def test_a_crew_sends_only_for_casualties_in_its_own_ambulance(world, loaded):
    carol = as_user(world.carol)
    other_ambulance, at_scene = loaded["ids"][2], loaded["ids"][3]
    for casualty in (other_ambulance, at_scene):
        refused = post(
            carol,
            f"/api/major/casualties/{casualty}/notice",
            notice(f"tab-own-{casualty:05d}", heart_rate=80),
        )
        assert refused.status_code == 403 and refused.json()["code"] == "not_in_ambulance"
    # A crew on a unit not on this incident at all.
    stranger = as_user(world.bls1.shifts.current().get().user)
    refused = post(
        stranger, f"/api/major/casualties/{loaded['ids'][0]}/notice", notice("tab-stranger-1", heart_rate=80)
    )
    assert refused.status_code == 403
    # Not a crew: the control room and hospitals do not send a crew's notice.
    for user in (world.alice, world.dave):
        assert (
            post(
                as_user(user),
                f"/api/major/casualties/{loaded['ids'][0]}/notice",
                notice("tab-role-0001", heart_rate=80),
            ).status_code
            == 403
        )
    assert CasualtyNotice.objects.count() == 0 and not Event.objects.filter(kind="casualty.notice").exists()


def test_bad_input_is_a_clear_4xx_and_writes_nothing(world, loaded):
    carol = as_user(world.carol)
    red, no_destination = loaded["ids"][0], loaded["ids"][4]
    url = f"/api/major/casualties/{red}/notice"
    before = (Event.objects.count(), CasualtyNotice.objects.count())
    cases = [
        (url, notice("tab-bad-00001", heart_rate=400), 422, "bad_reading"),
        (url, notice("tab-bad-00002", systolic_bp=80, diastolic_bp=90), 422, "bad_reading"),
        (url, notice("tab-bad-00003", systolic_bp=120), 422, "bad_reading"),
        (url, notice("tab-bad-00004", gcs=2), 422, "bad_reading"),
        (url, notice("tab-bad-00005", spo2=101), 422, "bad_reading"),
        (url, notice("tab-bad-00006", injuries="伤" * 501), 422, None),
        (url, notice("tab-bad-00007", chips=["nosebleed"]), 422, None),
        (url, notice("tab-bad-00008", sex="X"), 422, "bad_sex"),
        (url, notice("tab-bad-00009", age_estimate=130), 422, None),
        (url, notice("tab-bad-00010"), 422, "empty_notice"),
        (url, notice("short", heart_rate=80), 422, None),
        ("/api/major/casualties/999999/notice", notice("tab-bad-00011", heart_rate=80), 404, "not_found"),
        (
            f"/api/major/casualties/{no_destination}/notice",
            notice("tab-bad-00012", heart_rate=80),
            409,
            "not_allocated",
        ),
    ]
    for path, body, status, code in cases:
        response = post(carol, path, body)
        assert response.status_code == status, (body, response.content)
        answer = response.json()
        assert "detail" in answer or answer.get("error"), answer
        if code:
            assert answer["code"] == code, answer
    assert (Event.objects.count(), CasualtyNotice.objects.count()) == before
    assert Casualty.objects.get(pk=red).sex == ""
    # Stood down: the notice is refused too.
    actions.stand_down_major(MajorIncident.objects.get(), actor=world.alice)
    assert post(carol, url, notice("tab-bad-00013", heart_rate=80)).status_code == 409


def test_each_hospital_sees_only_its_own_casualties_notices_in_the_api_queries_and_socket(world, loaded):
    carol = as_user(world.carol)
    red, yellow = loaded["ids"][0], loaded["ids"][1]
    post(carol, f"/api/major/casualties/{red}/notice", notice("tab-conf-0001", **FULL))
    post(carol, f"/api/major/casualties/{yellow}/notice", notice("tab-conf-0002", injuries="胸部挤压伤"))
    city = as_user(world.dave).get("/api/hospital/major").json()
    rows = [c for m in city for c in m["casualties"]]
    assert [c["id"] for c in rows] == [red, loaded["ids"][3]]
    assert rows[0]["notice"]["injuries"] == FULL["injuries"] and rows[1]["notice"] is None
    assert rows[0]["where"] == "transporting" and "eta_s" in rows[0]
    county = as_user(world.frank).get("/api/hospital/major").json()
    notices = {c["id"]: c["notice"] for m in county for c in m["casualties"]}
    assert set(notices) == {yellow, loaded["ids"][2]} and notices[yellow]["injuries"] == "胸部挤压伤"
    assert "右股骨" not in json.dumps(county, ensure_ascii=False)
    # The socket's rule and the log's: each hospital hears only its own patients' notices.
    events = list(Event.objects.filter(kind="casualty.notice"))
    assert len(events) == 2
    for event in events:
        payload = serialize_event(event)
        assert is_event_visible(world.dave, payload) == (event.hospital_id == world.city.pk)
        assert is_event_visible(world.frank, payload) == (event.hospital_id == world.county.pk)
    assert list(
        visible_events(world.dave).filter(kind="casualty.notice").values_list("hospital_id", flat=True)
    ) == [world.city.pk]
    # No clinical detail travels on the event itself: the board reads it through the API.
    assert all("injuries" not in e.data and "heart_rate" not in e.data for e in events)


def test_the_crews_on_the_incident_hear_its_casualty_events_and_no_other_crew_does(world, loaded):
    """What lets the tablet read the picture when it changed instead of polling: every major
    incident event names the units on the incident; their crews hear it, a crew elsewhere not."""
    stranger = world.bls1.shifts.current().get().user
    als2_crew = world.als2.shifts.current().get().user
    events = list(Event.objects.filter(kind__startswith="casualty.").exclude(unit=world.als1))
    assert events, "allocations and the other ambulance's loading name no unit of carol's"
    for event in events:
        payload = serialize_event(event)
        assert is_event_visible(world.carol, payload, crew_unit_id(world.carol))
        assert is_event_visible(als2_crew, payload, crew_unit_id(als2_crew))
        assert not is_event_visible(stranger, payload, crew_unit_id(stranger))
    seen = set(visible_events(world.carol).filter(kind__startswith="casualty.").values_list("pk", flat=True))
    assert {e.pk for e in events} <= seen
    assert not visible_events(stranger).filter(kind__startswith="casualty.").exists()
    assert not visible_events(stranger).filter(kind__startswith="major.").exists()


def test_next_tag_number_is_one_query(world, loaded, django_assert_num_queries):
    major = MajorIncident.objects.get()
    Casualty.objects.filter(pk=loaded["ids"][4]).update(tag_number="006")  # 001-004 and 006 taken
    with django_assert_num_queries(1):
        number = actions.next_tag_number(major)
    assert number == "007"
