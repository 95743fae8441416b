"""The rehearsal plays a 30-casualty major incident through a real server's public API: declared,
eight units sent at once with one in command, thirty casualties registered with the START mix,
distributed over the demo city's hospitals by capacity, so no hospital gets more than it can
take."""

import pytest
from django.core.management import call_command

from dispatch.demo.major_rehearsal import rehearse
from dispatch.demo.simulator import Session, SimPlace
from dispatch.management.commands.simulate import SIM_DISPATCHER, sim_account
from dispatch.models import Assignment, Casualty, MajorIncident, Role
from fleet.models import Station
from tests.demo.test_simulator import real_password_hashing  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_thirty_casualties_declared_sent_registered_and_spread(live_url, real_password_hashing) -> None:  # noqa: F811
    call_command("make_demo_city", verbosity=0)
    station = Station.objects.order_by("code").first()
    scene = SimPlace("演练现场", station.location.x + 0.002, station.location.y + 0.002, 1.0)
    dispatcher = Session(live_url, SIM_DISPATCHER, sim_account(SIM_DISPATCHER, Role.DISPATCHER))

    done = rehearse(dispatcher, scene, patients=30, units=8, seed=7)

    major = MajorIncident.objects.get(pk=done.major)
    assert major.incident_id == done.incident and major.level == 2  # 30 reported: level II
    assert len(done.units) == 8 and Assignment.objects.filter(incident_id=done.incident).count() == 8
    assert major.command_unit.call_sign in done.units
    casualties = Casualty.objects.filter(major=major)
    assert casualties.count() == 30 and done.tags == {"red": 6, "yellow": 8, "green": 14, "black": 2}
    carried = casualties.exclude(tag="black")
    assert carried.filter(hospital__isnull=True).count() == done.unplaced == 0
    assert not casualties.filter(tag="black", hospital__isnull=False).exists()
    per_hospital = {}
    for hospital_id, tag in carried.values_list("hospital_id", "tag"):
        per_hospital.setdefault(hospital_id, []).append(tag)
    assert len(per_hospital) >= 3  # spread, not all to the nearest
    for tags in per_hospital.values():  # the defaults: 2 resuscitation, 6 emergency beds
        assert tags.count("red") <= 2 and tags.count("yellow") + tags.count("green") <= 6
    assert sum(done.hospitals.values()) == 28
