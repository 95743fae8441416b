"""A local HTTP server answering as a self-hosted Nominatim (/search), AMap (/v3/geocode/geo)
and Baidu (/geocoding/v3/) do, for geopy's real client code. `delay` makes it slow."""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

# One place, as each provider would give it (AMap in GCJ-02, Baidu in BD-09): the WGS-84 point
# (119.6012, 24.9512) run through the published forward formulas.
KNOWN = "明湾市滨海大道100号"


@dataclass
class FakeGeocoders:
    url: str = ""
    delay: float = 0.0
    requests: list[dict] = field(default_factory=list)
    places: dict = field(default_factory=dict)  # address -> (wgs84, gcj02, bd09) as (lon, lat)


def handler_for(fake: FakeGeocoders) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def reply(self, body) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            fake.requests.append({"path": parts.path, **query})
            if fake.delay:
                time.sleep(fake.delay)
            if parts.path == "/search":
                self.nominatim(query)
            elif parts.path == "/v3/geocode/geo":
                self.amap(query)
            elif parts.path == "/geocoding/v3/":
                self.baidu(query)
            else:
                self.send_error(404)

        def nominatim(self, query: dict) -> None:
            place = fake.places.get(query.get("q"))
            if not place:
                self.reply([])
                return
            lon, lat = place[0]
            self.reply(
                [
                    {
                        "place_id": 1,
                        "lat": str(lat),
                        "lon": str(lon),
                        "display_name": query["q"],
                        "type": "house",
                    }
                ]
            )

        def amap(self, query: dict) -> None:
            if query.get("key") != "amap-key":
                self.reply({"status": "0", "info": "INVALID_USER_KEY", "infocode": "10001"})
                return
            place = fake.places.get(query.get("address"))
            geocodes = []
            if place:
                lon, lat = place[1]
                geocodes = [
                    {
                        "formatted_address": query["address"],
                        "location": f"{lon:.6f},{lat:.6f}",
                        "level": "门牌号",
                    }
                ]
            self.reply(
                {
                    "status": "1",
                    "info": "OK",
                    "infocode": "10000",
                    "count": str(len(geocodes)),
                    "geocodes": geocodes,
                }
            )

        def baidu(self, query: dict) -> None:
            if query.get("ak") != "baidu-key":
                self.reply({"status": 200, "message": "APP不存在，AK有误请检查再重试"})
                return
            place = fake.places.get(query.get("address"))
            if not place:
                self.reply({"status": 0, "result": []})
                return
            lon, lat = place[2]
            self.reply(
                {
                    "status": 0,
                    "result": {
                        "location": {"lng": lon, "lat": lat},
                        "precise": 1,
                        "confidence": 80,
                        "comprehension": 100,
                        "level": "门址",
                    },
                }
            )

    return Handler


@pytest.fixture
def fake_geocoders(settings):
    from dispatch.locate import geocoding
    from dispatch.locate.chinacoords import gcj02_to_bd09, wgs84_to_gcj02

    wgs = (119.6012, 24.9512)
    gcj = wgs84_to_gcj02(*wgs)
    fake = FakeGeocoders(places={KNOWN: (wgs, gcj, gcj02_to_bd09(*gcj))})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(fake))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.GEOCODER_URL = fake.url
    settings.GEOCODER_TIMEOUT_MS = 800
    geocoding.forget_failures()
    yield fake
    fake.delay = 0
    server.shutdown()
    server.server_close()
    geocoding.forget_failures()
