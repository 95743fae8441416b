"""A bus crash: an open incident located between the two test hospitals, with its units."""

import pytest
from django.contrib.gis.geos import Point

from dispatch.incidents.actions import create_incident


@pytest.fixture
def crash(world):
    return create_incident(
        actor=world.alice,
        caller_number="13800000120",
        location=Point(119.60, 24.90, srid=4326),
        location_source="pin",
        address="滨海大道与海秀路口",
        chief_complaint="大巴侧翻 群体伤",
    )
