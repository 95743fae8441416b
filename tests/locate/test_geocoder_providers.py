"""Each configured geocoder, through geopy's real client code against a local server speaking
that provider's protocol, gives the same WGS-84 point: Nominatim as is, AMap from GCJ-02,
Baidu from BD-09."""

import pytest

from dispatch.locate import geocoding
from tests.support.fake_geocoders import KNOWN, fake_geocoders  # noqa: F401  (fixture)

WGS = (119.6012, 24.9512)


def configure(settings, provider: str, key: str = "") -> None:
    settings.GEOCODER = provider
    settings.GEOCODER_KEY = key


def near(found: geocoding.Geocoded, tolerance: float = 2e-6) -> bool:  # about 20 cm
    return abs(found.lon - WGS[0]) < tolerance and abs(found.lat - WGS[1]) < tolerance


def test_nominatim(settings, fake_geocoders):  # noqa: F811
    configure(settings, "nominatim")
    found = geocoding.geocode(KNOWN)
    assert near(found) and found.provider == "nominatim" and found.address == KNOWN
    (request,) = fake_geocoders.requests
    assert request["path"] == "/search" and request["q"] == KNOWN and request["format"] == "json"


def test_amap_converts_from_gcj02(settings, fake_geocoders):  # noqa: F811
    configure(settings, "amap", "amap-key")
    found = geocoding.geocode(KNOWN)
    assert near(found)
    assert abs(found.raw_lon - WGS[0]) > 0.003  # the provider's raw point is hundreds of metres off
    assert fake_geocoders.requests[0]["key"] == "amap-key"


def test_baidu_converts_from_bd09(settings, fake_geocoders):  # noqa: F811
    configure(settings, "baidu", "baidu-key")
    found = geocoding.geocode(KNOWN)
    assert near(found)
    assert abs(found.raw_lon - WGS[0]) > 0.01  # BD-09 is further off than GCJ-02
    assert fake_geocoders.requests[0]["ak"] == "baidu-key"


@pytest.mark.parametrize("provider", ["nominatim", "amap", "baidu"])
def test_nothing_found_is_none(settings, fake_geocoders, provider):  # noqa: F811
    configure(settings, provider, f"{provider}-key")
    assert geocoding.geocode("没有这个地方") is None


@pytest.mark.parametrize("provider", ["amap", "baidu"])
def test_a_wrong_key_is_an_error_not_no_match(settings, fake_geocoders, provider):  # noqa: F811
    configure(settings, provider, "wrong")
    with pytest.raises(geocoding.GeocoderDown, match="Authentication"):
        geocoding.geocode(KNOWN)
