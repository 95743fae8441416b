"""The receiving hospital goes on diversion for what the patient needs (or runs out of
resuscitation beds) while a unit is bound there: the crew's job carries an alert with the next
best hospital, the dispatcher's timeline has it, and a redirect or the hospital reopening ends it.
Patients the change does not concern hear nothing."""

from django.contrib.gis.geos import Point

from dispatch.handoff.actions import set_beds, set_diversion
from dispatch.incidents.actions import triage_incident
from dispatch.models import Event
from dispatch.registry.actions import create_hospital
from tests.support.crew_tablet import crew_member, job, post, signed_in
from tests.support.roster import on_shift

ALERT = "assignment.destination_diverting"


def stemi_to_city(world, unit, crew):
    """A STEMI (chest pain centre needed) bound for the city hospital."""
    assignment = job(world, unit, hospital=world.city, crew=crew)
    triage_incident(
        assignment.incident,
        actor=world.alice,
        priority=1,
        chief_complaint="胸痛 STEMI",
        answers={"hospital_capability": "chest_pain"},
    )
    return assignment


def heart_centre():
    return create_hospital(
        "明湾心血管病医院", Point(119.62, 24.90, srid=4326), capabilities=["chest_pain", "pci"]
    )


def crew_alert(tablet):
    return tablet.get("/api/crew/assignment").json()["assignment"]["destination_alert"]


def test_diversion_for_chest_pain_alerts_the_crew_with_the_next_best_hospital(world, tablet):
    heart = heart_centre()
    stemi = stemi_to_city(world, world.als1, world.carol)
    set_diversion(world.city, ["chest_pain"], actor=world.dave, reason="导管室故障")

    (alert,) = Event.objects.filter(kind=ALERT)
    assert alert.unit_id == world.als1.pk and alert.incident_id == stemi.incident_id
    assert alert.hospital_id is None  # the control room and the crew; not another ER's board
    assert alert.data["cause"] == "diversion" and alert.data["category"] == "chest_pain"
    assert alert.data["alternative"]["id"] == heart.pk
    assert "明湾心血管病医院" in alert.data["text"] and "T-ALS-1" in alert.data["text"]

    shown = crew_alert(tablet)
    assert shown["hospital"] == world.city.pk and shown["alternative"]["name"] == "明湾心血管病医院"
    # The dispatcher's timeline has it; the crew's event feed too.
    timeline = signed_in(world.alice).get(f"/api/incidents/{stemi.incident_id}/timeline").json()
    assert ALERT in [e["kind"] for e in timeline]
    assert ALERT in [e["kind"] for e in tablet.get("/api/events").json()]

    # One tap: the crew's own destination write; the banner goes.
    alt = shown["alternative"]
    status, body = post(
        tablet,
        f"/api/crew/assignments/{stemi.pk}/destination",
        {"hospital": alt["id"], "hospital_rank": alt["rank"]},
    )
    assert status == 200, body
    assert crew_alert(tablet) is None


def test_the_alert_goes_when_the_hospital_reopens(world, tablet):
    heart_centre()
    stemi_to_city(world, world.als1, world.carol)
    set_diversion(world.city, ["chest_pain"], actor=world.dave)
    assert crew_alert(tablet) is not None
    set_diversion(world.city, [], actor=world.dave)
    assert crew_alert(tablet) is None


def test_a_diversion_that_does_not_concern_the_patient_says_nothing(world, tablet):
    stemi_to_city(world, world.als1, world.carol)
    other_crew = crew_member("olga")
    on_shift(other_crew, world.als2)
    minor = job(world, world.als2, hospital=world.city, crew=other_crew, complaint="擦伤")
    triage_incident(minor.incident, actor=world.alice, priority=4, chief_complaint="擦伤", answers={})
    set_diversion(world.city, ["stroke"], actor=world.dave)
    assert not Event.objects.filter(kind=ALERT).exists()
    # Diverting all patients concerns both; already diverting all, adding chest pain adds nothing.
    set_diversion(world.city, ["all"], actor=world.dave)
    assert sorted(Event.objects.filter(kind=ALERT).values_list("unit__call_sign", flat=True)) == [
        "T-ALS-1",
        "T-ALS-2",
    ]
    set_diversion(world.city, ["all", "chest_pain"], actor=world.dave)
    assert Event.objects.filter(kind=ALERT).count() == 2
    assert crew_alert(signed_in(other_crew)) is not None


def test_resuscitation_beds_running_out_alert_urgent_patients(world, tablet):
    heart = heart_centre()
    set_beds(heart, "resus", 2, actor=None)
    set_beds(world.city, "resus", 3, actor=world.dave)
    stemi_to_city(world, world.als1, world.carol)
    set_beds(world.city, "icu", 0, actor=world.dave)  # not the ranking's bed
    set_beds(world.city, "resus", 1, actor=world.dave)
    assert not Event.objects.filter(kind=ALERT).exists()
    set_beds(world.city, "resus", 0, actor=world.dave)
    (alert,) = Event.objects.filter(kind=ALERT)
    assert alert.data["cause"] == "beds" and alert.data["alternative"]["id"] == heart.pk
    assert crew_alert(tablet)["cause"] == "beds"
    set_beds(world.city, "resus", 0, actor=world.dave)  # no change: no second alert
    assert Event.objects.filter(kind=ALERT).count() == 1
    set_beds(world.city, "resus", 1, actor=world.dave)
    assert crew_alert(tablet) is None


def test_a_unit_already_at_the_hospital_is_not_alerted(world, tablet):
    stemi = stemi_to_city(world, world.als1, world.carol)
    for status in ("en_route", "on_scene", "transporting", "at_hospital"):
        assert post(tablet, "/api/crew/status", {"status": status, "assignment": stemi.pk})[0] == 200
    set_diversion(world.city, ["chest_pain"], actor=world.dave)
    assert not Event.objects.filter(kind=ALERT).exists()
