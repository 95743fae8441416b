"""Every page is served with a Content-Security-Policy that runs script only from our own files
(no 'unsafe-inline'), and no page carries inline script that policy would refuse: a value echoed
into a page by mistake cannot run, and nothing of ours stops working under the policy."""

import base64
import hashlib
from html.parser import HTMLParser

from django.contrib.gis.geos import Point
from django.test import Client
from django.utils import timezone

from dispatch.calls.actions import record_call_event, send_location_link, take_call
from dispatch.calls.telephony.events import CallEvent, CallEventKind
from dispatch.models import Place, Role, User

OPENLAYERS = "https://cdn.jsdelivr.net/npm/ol@v7.2.2/dist/ol.js"  # Django 5.2's map widget
XSS = "/reports/?priority=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"


def location_link(world) -> str:
    """A caller's live location page (/l/<token>), through the actions."""
    call = record_call_event(
        CallEvent("pbx", "c1", CallEventKind.RINGING, timezone.now(), caller="+8613912345678")
    )
    take_call(call, actor=world.alice)
    _link, url = send_location_link(call, actor=world.alice, base_url="http://testserver")
    return url.removeprefix("http://testserver")


def pages(world) -> list[tuple[str, object]]:
    """Each page (and the tablet's service worker, the API docs, a JSON answer) and who opens it."""
    root = User.objects.create_superuser("root", password="pw-root-120", role=Role.ADMIN)
    place = Place.objects.create(name="明湾体育中心", kind="landmark", point=Point(119.6, 24.9, srid=4326))
    return [
        ("/", world.alice),
        ("/console/", world.alice),
        ("/map/", world.alice),
        ("/er/", world.dave),
        ("/er/", world.bob),  # the control room's board has the hospital picker
        ("/tablet/", world.carol),
        ("/tablet/sw.js", world.carol),
        ("/reports/", world.bob),
        ("/reports/month/", world.bob),
        (XSS, world.bob),
        (location_link(world), None),
        ("/login/", None),
        ("/admin/", world.erin),
        # The admin's location fields: Django's map widget, started from a file (no inline script).
        (f"/admin/hospitals/hospital/{world.city.pk}/change/", root),
        (f"/admin/dispatch/place/{place.pk}/change/", root),
        ("/api/docs/", world.erin),
        ("/api/reports/summary", world.bob),
        ("/no-such-page/", world.alice),
    ]


def fetch(path: str, user) -> object:
    client = Client()
    if user is not None:
        client.force_login(user)
    response = client.get(path)
    assert response.status_code < 500, (path, response.status_code)
    return response


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


def test_every_response_carries_a_policy_without_inline_script(world):
    for path, user in pages(world):
        policy = directives(fetch(path, user))
        # Script from our own files only; the admin's map adds OpenLayers, one file by its address.
        assert policy["script-src"][0] == "'self'", path
        extra = policy["script-src"][1:]
        assert extra == ([] if not path.startswith("/admin/") else [OPENLAYERS]), path
        assert "'unsafe-inline'" not in policy.get("script-src-attr", []), path
        assert not {"'unsafe-inline'", "'unsafe-eval'"} & set(policy["default-src"]), path
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"], path
        assert policy["base-uri"] == ["'self'"] and policy["form-action"] == ["'self'"], path
        # The live sockets go to this host, and only to it.
        assert policy["connect-src"] == ["'self'", "ws://testserver", "wss://testserver"], path


class Scripts(HTMLParser):
    """Inline script in a page: <script> bodies that run, and on* event handler attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self.handlers: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.handlers += [value or "" for name, value in attrs if name.startswith("on")]
        data = found.get("type") == "application/json"  # json_script: data, which CSP leaves alone
        self.in_script = tag == "script" and "src" not in found and not data

    def handle_endtag(self, tag: str) -> None:
        self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_script and data.strip():
            self.inline.append(data.strip())


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_no_page_relies_on_inline_script_the_policy_refuses(world):
    for path, user in pages(world):
        response = fetch(path, user)
        if not response["Content-Type"].startswith("text/html"):
            continue
        scripts = Scripts()
        scripts.feed(response.content.decode())
        allowed = directives(response).get("script-src-attr", [])
        assert scripts.inline == [], path
        assert [h for h in scripts.handlers if sha256_source(h) not in allowed] == [], path
