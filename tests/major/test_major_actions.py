"""Major incidents through the actions: declared by hand and by rule, the situation report,
many units at once (all or none), casualties registered, re-triaged, given destinations,
carried and acknowledged, each step one event, a refusal changing nothing."""

import pytest
from django.contrib.gis.geos import Point

from dispatch.core.actions import ActionError
from dispatch.incidents.actions import close_incident, create_incident, dispatch_unit, update_incident_details
from dispatch.major import actions
from dispatch.major.reads import major_report, picture, proposed_plan
from dispatch.major.rules import declare_due, level_for
from dispatch.models import Assignment, Casualty, Event, MajorIncident, Outbox

pytestmark = pytest.mark.django_db


def kinds_since(seq: int) -> list[str]:
    return list(Event.objects.filter(seq__gt=seq).order_by("seq").values_list("kind", flat=True))


def last_seq() -> int:
    return Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def test_declaring_by_hand_tells_the_list_and_opens_the_situation_report(world, crash, settings):
    settings.MAJOR_INCIDENT_NOTIFY = ["+8613900000001", "+8613900000002"]
    before = last_seq()
    major = actions.declare_major_incident(crash, level=2, actor=world.bob, casualties_reported=23)
    assert major.level == 2 and major.declared_by == world.bob and major.rule == ""
    assert major.exact_location == "滨海大道与海秀路口" and major.casualties_reported == 23
    assert kinds_since(before) == ["major.declared"]
    sms = Outbox.objects.filter(channel="sms", incident=crash).order_by("recipient")
    assert [m.recipient for m in sms] == settings.MAJOR_INCIDENT_NOTIFY
    assert crash.number in sms[0].payload["body"] and "23" in sms[0].payload["body"]
    with pytest.raises(ActionError) as twice:
        actions.declare_major_incident(crash, level=1, actor=world.bob)
    assert twice.value.status == 409 and MajorIncident.objects.count() == 1


def test_a_closed_incident_or_a_bad_level_is_refused_and_nothing_is_written(world, crash):
    with pytest.raises(ActionError):
        actions.declare_major_incident(crash, level=7, actor=world.alice)
    close_incident(crash, actor=world.alice, outcome="cancelled")
    with pytest.raises(ActionError):
        actions.declare_major_incident(crash, level=3, actor=world.alice)
    assert not MajorIncident.objects.exists() and not Outbox.objects.filter(channel="sms").exists()


def test_the_rule_declares_by_patients_and_by_complaint_once(world, crash, settings):
    settings.MAJOR_PATIENT_THRESHOLD = 5
    settings.MAJOR_COMPLAINT_WORDS = ["爆炸"]
    assert level_for(4) == 4 and level_for(12) == 3 and level_for(30) == 2 and level_for(80) == 1
    assert declare_due() == 0  # one patient, a crash is not in the words
    update_incident_details(crash, actor=world.alice, patient_count=12)
    assert declare_due() == 1
    major = MajorIncident.objects.get(incident=crash)
    assert major.level == 3 and major.declared_by is None and "12" in major.rule
    assert declare_due() == 0  # declared once
    actions.stand_down_major(major, actor=world.bob)
    assert declare_due() == 0  # and a stood-down one is not declared again
    blast = create_incident(actor=world.alice, chief_complaint="化工厂爆炸")
    assert declare_due() == 1 and MajorIncident.objects.get(incident=blast).level == 4


def test_situation_report_updates_are_events_and_bad_values_change_nothing(world, crash):
    major = actions.declare_major_incident(crash, level=3, actor=world.alice)
    before = last_seq()
    actions.update_sitrep(major, actor=world.alice, hazards="燃油泄漏", casualties_reported=31, level=2)
    major.refresh_from_db()
    assert major.hazards == "燃油泄漏" and major.casualties_reported == 31 and major.level == 2
    event = Event.objects.get(seq__gt=before)
    assert event.kind == "major.sitrep" and event.data["hazards"] == "燃油泄漏" and event.data["level"] == 2
    for bad in ({"hazards": "x" * 501}, {"casualties_reported": -1}, {"level": 0}, {"colour": "red"}, {}):
        with pytest.raises(ActionError):
            actions.update_sitrep(major, actor=world.alice, **bad)
    major.refresh_from_db()
    assert major.hazards == "燃油泄漏" and major.level == 2 and last_seq() == event.seq


def test_many_units_go_at_once_or_none_does(world, crash):
    actions.declare_major_incident(crash, level=3, actor=world.alice)
    dispatch_unit(crash, world.neg1, actor=world.alice)  # taken before the order
    with pytest.raises(ActionError) as busy:
        actions.dispatch_units(crash, [world.als1, world.als2, world.neg1], actor=world.alice)
    assert busy.value.status == 409
    assert list(Assignment.objects.filter(incident=crash).values_list("unit__call_sign", flat=True)) == [
        "T-NEG-1"
    ]
    sent = actions.dispatch_units(
        crash, [world.als1, world.als2, world.bls1], actor=world.alice, command_unit=world.als2
    )
    assert sorted(a.unit.call_sign for a in sent) == ["T-ALS-1", "T-ALS-2", "T-BLS-1"]
    assert MajorIncident.objects.get(incident=crash).command_unit == world.als2
    for bad in ([], [world.als1, world.als1]):
        with pytest.raises(ActionError):
            actions.dispatch_units(crash, bad, actor=world.alice)


def test_casualties_numbered_retagged_and_a_retry_adds_nothing(world, crash):
    major = actions.declare_major_incident(crash, level=3, actor=world.alice)
    first = actions.register_casualty(major, tag="red", actor=world.carol, client_id="tab-1-0001")
    second = actions.register_casualty(major, tag="green", actor=world.carol, description="左臂擦伤 <b>")
    again = actions.register_casualty(major, tag="red", actor=world.carol, client_id="tab-1-0001")
    assert (first.tag_number, second.tag_number) == ("001", "002") and again.pk == first.pk
    assert Casualty.objects.count() == 2
    with pytest.raises(ActionError) as taken:
        actions.register_casualty(major, tag="red", actor=world.carol, tag_number="002")
    assert taken.value.status == 409
    own = actions.register_casualty(major, tag="yellow", actor=world.carol, tag_number="A-17")
    assert own.tag_number == "A-17"
    for bad in ({"tag": "blue"}, {"tag": "red", "age_estimate": 300}, {"tag": "red", "sex": "X"}):
        with pytest.raises(ActionError):
            actions.register_casualty(major, actor=world.carol, **bad)
    assert Casualty.objects.count() == 3
    before = last_seq()
    actions.retag_casualty(second, tag="yellow", actor=world.carol)
    actions.retag_casualty(second, tag="yellow", actor=world.carol)  # the same tag: nothing new
    event = Event.objects.get(seq__gt=before)
    assert (
        event.kind == "casualty.retagged" and event.data["was"] == "green" and event.data["tag"] == "yellow"
    )


def test_the_plan_accepted_spreads_patients_and_each_hospital_hears_only_its_own(world, crash):
    major = actions.declare_major_incident(crash, level=3, actor=world.alice)
    casualties = [
        actions.register_casualty(major, tag=t, actor=world.carol) for t in ["red"] * 3 + ["green"] * 4
    ]
    plan, planned = proposed_plan(major)
    assert [c.pk for c in planned] == [c.pk for c in casualties]
    placed = {a.patient: a.hospital for a in plan.allocations}
    # Two hospitals with the default 2 resuscitation beds each: 3 reds need both.
    assert {placed[c.pk] for c in casualties[:3]} == {world.city.pk, world.county.pk}
    before = last_seq()
    actions.allocate_casualties(major, placed, actor=world.alice)
    events = Event.objects.filter(seq__gt=before, kind="casualty.allocated")
    assert events.count() == 7
    assert {e.hospital_id for e in events} == {world.city.pk, world.county.pk}
    assert all(e.data["hospital"] == e.hospital_id for e in events)
    # Nothing is left to plan; moving one patient tells both hospitals.
    assert proposed_plan(major)[0].allocations == []
    moved = casualties[3]
    old = Casualty.objects.get(pk=moved.pk).hospital_id
    new = world.county.pk if old == world.city.pk else world.city.pk
    before = last_seq()
    actions.allocate_casualties(major, {moved.pk: new}, actor=world.alice)
    told = list(Event.objects.filter(seq__gt=before).order_by("seq").values_list("hospital_id", "data"))
    assert [h for h, _ in told] == [old, new] and told[0][1]["withdrawn_from"] == old
    board = picture(major)
    assert board["counts"]["red"]["total"] == 3 and board["unassigned"] == []
    assert sum(sum(h["tags"].values()) for h in board["hospitals"]) == 7


def test_a_casualty_is_carried_by_an_ambulance_of_the_incident_and_acknowledged_by_its_er(world, crash):
    major = actions.declare_major_incident(crash, level=3, actor=world.alice)
    [job] = actions.dispatch_units(crash, [world.als1], actor=world.alice)
    red = actions.register_casualty(major, tag="red", actor=world.carol)
    dead = actions.register_casualty(major, tag="black", actor=world.carol)
    actions.allocate_casualties(major, {red.pk: world.city.pk}, actor=world.alice)
    with pytest.raises(ActionError):
        actions.transport_casualties([dead], job, actor=world.alice)
    other = dispatch_unit(create_incident(actor=world.alice), world.bls1, actor=world.alice)
    with pytest.raises(ActionError):
        actions.transport_casualties([red], other, actor=world.alice)  # not this incident's ambulance
    actions.transport_casualties([red], job, actor=world.alice)
    red.refresh_from_db()
    assert red.status == "transporting" and red.assignment == job and red.hospital == world.city
    with pytest.raises(ActionError) as not_theirs:
        actions.acknowledge_casualty(red, actor=world.frank)  # the county's nurse
    assert not_theirs.value.status == 403
    actions.acknowledge_casualty(red, actor=world.dave)
    actions.casualty_arrived(red, actor=world.dave)
    red.refresh_from_db()
    assert red.acknowledged_by == world.dave and red.status == "at_hospital"
    report = major_report(major)
    assert report["casualties"] == 2 and report["by_tag"] == {"red": 1, "black": 1}
    assert report["by_hospital"] == {world.city.name: {"red": 1}} and report["not_carried"] == 1
    assert report["to_last_patient_carried_s"] is not None and report["units_sent"] == 1


def test_a_stood_down_major_incident_takes_no_more_casualties(world, crash):
    major = actions.declare_major_incident(crash, level=4, actor=world.alice)
    actions.stand_down_major(major, actor=world.bob)
    with pytest.raises(ActionError) as refused:
        actions.register_casualty(major, tag="green", actor=world.carol)
    assert refused.value.status == 409 and not Casualty.objects.exists()


def test_the_staging_point_must_be_a_place_and_the_command_unit_one_sent(world, crash):
    major = actions.declare_major_incident(crash, level=3, actor=world.alice)
    with pytest.raises(ActionError):
        actions.set_scene(major, actor=world.alice, command_unit=world.als1)  # not sent
    actions.dispatch_units(crash, [world.als1], actor=world.alice)
    actions.set_scene(
        major,
        actor=world.alice,
        command_unit=world.als1,
        staging_point=Point(119.601, 24.901, srid=4326),
        access_route=[(119.59, 24.89), (119.60, 24.90)],
    )
    major.refresh_from_db()
    assert major.command_unit == world.als1 and major.access_route.num_points == 2
    with pytest.raises(ActionError):
        actions.set_scene(major, actor=world.alice, access_route=[(119.6, 24.9)])
