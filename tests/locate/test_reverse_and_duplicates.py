"""What is at a point (the nearest named place), and which open incidents a new call may repeat."""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from dispatch.incidents.actions import close_incident, create_incident, link_incident
from dispatch.locate.gazetteer import search_keys
from dispatch.locate.reads import NEARBY, SAME_CALLER, places, possible_duplicates, whereabouts
from dispatch.models import Place, PlaceKind
from fleet.roads.router import reset_router

SCENE = Point(119.600, 24.900, srid=4326)
CALLER = "+8613800000001"
# Offsets at latitude 24.9: 0.001 degree of longitude is 101 m, of latitude 111 m.
M200_EAST = Point(119.602, 24.900, srid=4326)  # 202 m
KM1_NORTH = Point(119.600, 24.909, srid=4326)  # 1001 m


def add_place(name: str, point: Point, kind: str = PlaceKind.LANDMARK) -> Place:
    pinyin, initials = search_keys(name)
    return Place.objects.create(name=name, kind=kind, point=point, pinyin=pinyin, initials=initials)


def open_incident(world, point: Point | None = SCENE, caller: str = CALLER, **fields):
    return create_incident(
        actor=world.alice,
        location=point,
        location_source="pin" if point else "",
        caller_number=caller,
        **fields,
    )


def found(point: Point | None, caller: str, **kwargs) -> dict[str, tuple[str, ...]]:
    """Incident number -> reasons."""
    return {d.incident.number: d.reasons for d in possible_duplicates(point, caller, **kwargs)}


# ---- the nearest named place


def test_nearest_place_and_its_distance(db):
    gate = add_place("碧水苑东门", Point(119.601, 24.900, srid=4326))
    add_place("福民路小学", Point(119.610, 24.900, srid=4326))
    nearest = places().nearest(SCENE).first()
    assert nearest == gate
    assert nearest.distance_m == pytest.approx(101, abs=1.5)


def test_several_nearest_in_order(db):
    far = add_place("远处", Point(119.620, 24.900, srid=4326))
    near = add_place("近处", Point(119.601, 24.900, srid=4326))
    middle = add_place("中间", Point(119.610, 24.900, srid=4326))
    assert list(places().nearest(SCENE, limit=3)) == [near, middle, far]


def test_nothing_named_within_range(db):
    add_place("远处", Point(119.700, 24.900, srid=4326))  # 10 km
    assert places().nearest(SCENE, within_m=5000).first() is None


def test_whereabouts_without_a_road_network_has_no_snap(db):
    reset_router()
    gate = add_place("碧水苑东门", Point(119.601, 24.900, srid=4326))
    here = whereabouts(SCENE)
    assert here.place == gate and here.snap is None
    reset_router()


# ---- possible duplicates


def test_open_incident_within_300_m_is_offered_with_its_distance(world):
    incident = open_incident(world)
    [duplicate] = possible_duplicates(M200_EAST, "+8613900000002")
    assert duplicate.incident == incident
    assert duplicate.reason == NEARBY
    assert duplicate.distance_m == pytest.approx(202, abs=2)


def test_open_incident_1_km_away_is_not_offered(world):
    open_incident(world)
    assert found(KM1_NORTH, "+8613900000002") == {}


def test_same_number_within_30_minutes_is_offered_wherever_it_was(world):
    incident = open_incident(world)
    assert found(KM1_NORTH, CALLER) == {incident.number: (SAME_CALLER,)}
    assert found(None, CALLER) == {incident.number: (SAME_CALLER,)}


def test_same_number_after_30_minutes_is_not_offered(world):
    open_incident(world, point=None)
    later = timezone.now() + timedelta(minutes=31)
    assert found(KM1_NORTH, CALLER, now=later) == {}


def test_same_number_and_nearby_gives_both_reasons(world):
    incident = open_incident(world)
    assert found(M200_EAST, CALLER) == {incident.number: (SAME_CALLER, NEARBY)}


def test_recently_closed_incident_of_the_same_number_is_offered(world):
    incident = open_incident(world)
    close_incident(incident, actor=world.alice, outcome="treated on scene")
    assert found(None, CALLER) == {incident.number: (SAME_CALLER,)}


def test_closed_incidents_are_not_offered_for_being_nearby(world):
    nearby_closed = open_incident(world, caller="+8613900000003")
    close_incident(nearby_closed, actor=world.alice, outcome="treated on scene")
    far_closed = open_incident(world, point=KM1_NORTH, caller="+8613900000004")
    close_incident(far_closed, actor=world.alice, outcome="no patient")
    assert found(M200_EAST, "+8613900000002") == {}


def test_a_withheld_number_matches_no_other_withheld_number(world):
    open_incident(world, point=None, caller="")
    assert found(None, "") == {}
    assert found(KM1_NORTH, "  ") == {}


def test_incidents_already_linked_are_left_out(world):
    first = open_incident(world)
    second = open_incident(world)
    link_incident(second, first, actor=world.alice)
    assert found(M200_EAST, CALLER) == {first.number: (SAME_CALLER, NEARBY)}


def test_the_incident_being_taken_can_be_left_out(world):
    first = open_incident(world)
    second = open_incident(world, point=M200_EAST)
    assert found(SCENE, CALLER, exclude=second.pk) == {first.number: (SAME_CALLER, NEARBY)}


def test_same_caller_first_then_nearest(world):
    near_other = open_incident(world, point=Point(119.6005, 24.900, srid=4326), caller="+8613900000005")
    nearer_other = open_incident(world, point=SCENE, caller="+8613900000006")
    same_far = open_incident(world, point=KM1_NORTH)
    order = [d.incident for d in possible_duplicates(SCENE, CALLER)]
    assert order == [same_far, nearer_other, near_other]
