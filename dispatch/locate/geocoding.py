"""The external geocoder behind the gazetteer, through geopy (decision 7, docs/decisions/), chosen by
settings: a self-hosted Nominatim, AMap (GCJ-02) or Baidu (BD-09); their coordinates are
converted to WGS-84 here, at the edge.

It is only ever a fallback: every call is bounded by GEOCODER_TIMEOUT_MS, and after a failure
the geocoder is skipped for a while, so a geocoder that is down or slow never holds up a
dispatcher; the gazetteer and the map pin do not depend on it.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TypedDict
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from geopy.adapters import RequestsAdapter
from geopy.exc import (
    GeocoderAuthenticationFailure,
    GeocoderQuotaExceeded,
    GeocoderServiceError,
    GeopyError,
)
from geopy.geocoders import BaiduV3, Nominatim
from geopy.geocoders.base import DEFAULT_SENTINEL, Geocoder
from geopy.location import Location

from dispatch.locate.chinacoords import TO_WGS84

# The datum each provider answers in.
DATUM = {"nominatim": "wgs84", "amap": "gcj02", "baidu": "bd09"}
SKIP_AFTER_FAILURE_S = 30
USER_AGENT = "dispatch120-geocoder"


class GeocoderDown(Exception):
    """The geocoder failed, timed out or is being skipped; the message says which."""


class NoGeocoder(GeocoderDown):
    """This deployment has no external geocoder: a setting, not an outage."""


@dataclass(frozen=True)
class Geocoded:
    lon: float  # WGS-84
    lat: float
    address: str
    provider: str
    raw_lon: float  # as the provider gave it, in its own datum
    raw_lat: float


class AMap(Geocoder):
    """AMap (高德) web-service geocoding, /v3/geocode/geo; answers in GCJ-02. Not in geopy."""

    api_path = "/v3/geocode/geo"

    def __init__(
        self, api_key: str, *, domain: str = "restapi.amap.com", scheme: str | None = None, **kwargs
    ):
        super().__init__(scheme=scheme, **kwargs)
        self.api_key = api_key
        self.api = f"{self.scheme}://{domain}{self.api_path}"

    def geocode(self, query: str, *, exactly_one: bool = True, timeout=DEFAULT_SENTINEL, city: str = ""):
        params = {"key": self.api_key, "address": query, "output": "JSON"}
        if city:
            params["city"] = city
        callback = partial(self._parse_json, exactly_one=exactly_one)
        return self._call_geocoder(f"{self.api}?{urlencode(params)}", callback, timeout=timeout)

    def _parse_json(self, page: dict, exactly_one: bool):
        if str(page.get("status")) != "1":
            info, code = page.get("info", "unknown error"), str(page.get("infocode", ""))
            if code in ("10001", "10009"):  # bad key, key for another platform
                raise GeocoderAuthenticationFailure(f"AMap: {info} ({code})")
            if code in ("10003", "10004", "10044"):  # daily or per-second quota
                raise GeocoderQuotaExceeded(f"AMap: {info} ({code})")
            raise GeocoderServiceError(f"AMap: {info} ({code})")
        places = [self._location(p) for p in page.get("geocodes") or []]
        if not places:
            return None
        return places[0] if exactly_one else places

    @staticmethod
    def _location(place: dict) -> Location:
        lon, lat = (float(v) for v in place["location"].split(","))
        return Location(place.get("formatted_address", ""), (lat, lon), place)


class Baidu(BaiduV3):
    """geopy's Baidu v3 geocoder, at a configurable address (geopy hard-codes
    api.map.baidu.com; a proxy or a test server needs another)."""

    def __init__(self, api_key: str, *, domain: str = "api.map.baidu.com", **kwargs):
        super().__init__(api_key, **kwargs)
        self.api = f"{self.scheme}://{domain}{self.api_path}"


def endpoint(url: str) -> tuple[str, str | None]:
    """("host:port", scheme) from GEOCODER_URL; empty: the provider's public address."""
    if not url:
        return "", None
    parts = urlsplit(url if "://" in url else f"https://{url}")
    return parts.netloc, parts.scheme


class GeopyOptions(TypedDict, total=False):
    """The keyword arguments every geopy geocoder takes, as build() sets them."""

    timeout: float
    user_agent: str
    adapter_factory: Callable[..., RequestsAdapter]
    scheme: str


def build(provider: str) -> Geocoder:
    domain, scheme = endpoint(settings.GEOCODER_URL)
    options: GeopyOptions = {
        "timeout": settings.GEOCODER_TIMEOUT_MS / 1000,
        "user_agent": USER_AGENT,
        # geopy's default retries twice: three timeouts for one slow answer. One is enough.
        "adapter_factory": partial(RequestsAdapter, max_retries=0),
    }
    if scheme:
        options["scheme"] = scheme
    if provider == "nominatim":
        if not domain:
            raise GeocoderDown("GEOCODER_URL must name the self-hosted Nominatim.")
        return Nominatim(domain=domain, **options)
    if provider == "amap":
        return AMap(settings.GEOCODER_KEY, **({"domain": domain} if domain else {}), **options)
    if provider == "baidu":
        return Baidu(settings.GEOCODER_KEY, **({"domain": domain} if domain else {}), **options)
    raise GeocoderDown(f"Unknown GEOCODER {provider!r}: use nominatim, amap or baidu.")


_skip_until: dict[str, float] = {}


def geocode(query: str) -> Geocoded | None:
    """The configured geocoder's best match in WGS-84, None when it finds nothing, or
    GeocoderDown (not configured, failing, slow, or skipped after a recent failure)."""
    provider = settings.GEOCODER
    if not provider:
        raise NoGeocoder("No external geocoder is configured (GEOCODER).")
    if _skip_until.get(provider, 0) > time.monotonic():
        raise GeocoderDown(f"The {provider} geocoder failed recently; skipped for now.")
    try:
        found = build(provider).geocode(query, exactly_one=True)
    except GeopyError as exc:
        _skip_until[provider] = time.monotonic() + SKIP_AFTER_FAILURE_S
        raise GeocoderDown(f"The {provider} geocoder failed: {type(exc).__name__}: {exc}") from exc
    _skip_until.pop(provider, None)
    if found is None:
        return None
    lon, lat = TO_WGS84[DATUM[provider]](found.longitude, found.latitude)
    return Geocoded(lon, lat, found.address, provider, found.longitude, found.latitude)


def forget_failures() -> None:
    """Try the geocoder again at once (after a configuration change, and in tests)."""
    _skip_until.clear()
