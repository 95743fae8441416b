"""The geocoder is a fallback the dispatcher never waits on: with the server up it answers;
down or slow, the API says so quickly (503) and the gazetteer keeps answering."""

import time

import pytest
from django.contrib.gis.geos import Point
from django.test import Client

from dispatch.locate import geocoding
from dispatch.models import Place
from tests.support.fake_geocoders import KNOWN, fake_geocoders  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client(world) -> Client:
    Place.objects.create(name="明湾体育中心", kind="landmark", point=Point(119.6, 24.95, srid=4326))
    client = Client()
    client.force_login(world.alice)
    return client


def gazetteer_works(client: Client) -> bool:
    response = client.get("/api/places/search", {"q": "体育中心"})
    return response.status_code == 200 and response.json()[0]["name"] == "明湾体育中心"


def test_up(settings, alice_client, fake_geocoders):  # noqa: F811
    settings.GEOCODER = "nominatim"
    response = alice_client.get("/api/geocode", {"q": KNOWN})
    assert response.status_code == 200
    result = response.json()["result"]
    assert (round(result["lon"], 4), round(result["lat"], 4)) == (119.6012, 24.9512)


def test_down(settings, alice_client, fake_geocoders):  # noqa: F811
    settings.GEOCODER = "nominatim"
    settings.GEOCODER_URL = "http://127.0.0.1:9"  # nothing listens: connection refused
    response = alice_client.get("/api/geocode", {"q": KNOWN})
    assert response.status_code == 503 and response.json()["code"] == "geocoder_down"
    assert "failed" in response.json()["error"]
    assert gazetteer_works(alice_client)


def test_slow_is_cut_off_then_skipped(settings, alice_client, fake_geocoders):  # noqa: F811
    settings.GEOCODER = "amap"
    settings.GEOCODER_KEY = "amap-key"
    fake_geocoders.delay = 3.0
    started = time.monotonic()
    response = alice_client.get("/api/geocode", {"q": KNOWN})
    first = time.monotonic() - started
    assert response.status_code == 503 and "Timed" in response.json()["error"]
    assert first < fake_geocoders.delay  # cut off at GEOCODER_TIMEOUT_MS, not the server's pace
    # Right after a failure it is skipped without being asked at all.
    asked = len(fake_geocoders.requests)
    again = alice_client.get("/api/geocode", {"q": KNOWN})
    assert again.status_code == 503 and "skipped" in again.json()["error"]
    assert len(fake_geocoders.requests) == asked
    assert gazetteer_works(alice_client)


def test_recovers_after_the_pause(settings, alice_client, fake_geocoders):  # noqa: F811
    settings.GEOCODER = "nominatim"
    settings.GEOCODER_URL = "http://127.0.0.1:9"
    assert alice_client.get("/api/geocode", {"q": KNOWN}).status_code == 503
    settings.GEOCODER_URL = fake_geocoders.url
    geocoding._skip_until["nominatim"] = time.monotonic() - 1  # the pause is over
    assert alice_client.get("/api/geocode", {"q": KNOWN}).status_code == 200


def test_not_configured(settings, alice_client):
    settings.GEOCODER = ""
    response = alice_client.get("/api/geocode", {"q": KNOWN})
    assert response.status_code == 404 and "configured" in response.json()["error"]
    assert response.json()["code"] == "no_geocoder"
    assert gazetteer_works(alice_client)


def test_only_the_control_room(world):
    client = Client()
    client.force_login(world.dave)
    assert client.get("/api/geocode", {"q": KNOWN}).status_code == 403
