"""ER staff keep their status and beds current through the board's API: diverting named
categories changes the hospital recommendation at once; each change is audited with who and
when; a bad value is refused with a clear message and nothing written."""

import pytest
from django.contrib.gis.geos import Point

from dispatch.models import Event
from dispatch.recommend.reads import recommend_hospitals
from hospitals.models import BedAvailability
from tests.support.er_helpers import staff_get, staff_post

SCENE = Point(119.605, 24.925, srid=4326)  # nearer the city hospital than the county one


def first_for_stroke() -> tuple[str, bool]:
    first = recommend_hospitals(SCENE, "stroke")[0]
    return first.name, first.diverting


def test_diverting_stroke_changes_the_recommendation(world):
    assert first_for_stroke() == (world.city.name, False)
    status, body = staff_post(world.dave, "/api/er/status", {"diverting": ["stroke"], "reason": "CT 故障"})
    assert status == 200 and body["diverting"] == ["stroke"] and body["diversion_reason"] == "CT 故障"
    options = recommend_hospitals(SCENE, "stroke")
    city = next(o for o in options if o.id == world.city.pk)
    assert options[0].id != world.city.pk and city.diverting
    assert recommend_hospitals(SCENE, "chest_pain")[0].id == world.city.pk  # still takes chest pain
    audit = Event.objects.get(kind="hospital.diversion")
    assert audit.actor == world.dave and audit.hospital == world.city and audit.data["to"] == ["stroke"]
    assert staff_get(world.dave, "/api/er/board")[1]["hospital"]["changes"][0]["by"] == "dave"
    staff_post(world.dave, "/api/er/status", {"diverting": []})
    assert first_for_stroke() == (world.city.name, False)


def test_beds_have_one_number_per_category(world):
    staff_post(world.dave, "/api/er/beds", {"category": "resus", "available": 2})
    status, body = staff_post(world.dave, "/api/er/beds", {"category": "resus", "available": 0})
    assert status == 200
    assert BedAvailability.objects.get(hospital=world.city, category="resus").available == 0
    assert BedAvailability.objects.filter(hospital=world.city).count() == 1
    resus = next(b for b in body["beds"] if b["category"] == "resus")
    assert resus["available"] == 0
    audits = Event.objects.filter(kind="hospital.beds", actor=world.dave).order_by("seq")
    assert [(e.data["from"], e.data["to"]) for e in audits] == [(0, 2), (2, 0)]


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/er/status", {"diverting": ["everything"], "reason": "x"}),
        ("/api/er/status", {"diverting": ["stroke"], "reason": ""}),
        ("/api/er/beds", {"category": "resus", "available": -1}),
        ("/api/er/beds", {"category": "garden", "available": 3}),
    ],
)
def test_bad_input_is_refused_and_nothing_written(world, path, body):
    before = Event.objects.count()
    status, error = staff_post(world.dave, path, body)
    assert status == 422 and error["error"]
    world.city.refresh_from_db()
    assert world.city.diverting == [] and Event.objects.count() == before
    assert not BedAvailability.objects.exists()
