"""A tracker proves its unit with the unit's tracker key, as its device identifier or as the last
segment of the server URL, on daphne's fast path and through Django alike. The IMEI alone works
only from TRACKER_IMEI_NETWORKS; an unknown key, a wrong key and an IMEI from elsewhere get one
and the same answer; unknown ids are counted together, not one row each, and limited per address
while known keys never are; the admin rotates a key and the old one stops working."""

import json
import secrets
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from dispatch.core import ratelimit
from dispatch.models import Event, User
from fleet.models import PositionReport, RejectedFix, Unit
from tests.support.trackers import DEVICE, LAT, LON, URL, call, fix_params, key, soon

pytestmark = pytest.mark.django_db(transaction=True)  # the fast path answers from worker threads

TRANSPORTS = ["fast_path", "django"]
OUTSIDE = "203.0.113.9"  # a documentation address: no tracker network


def send(
    transport: str,
    params: dict,
    *,
    path: str = URL,
    client: str = OUTSIDE,
    headers: dict[str, str] | None = None,
    method: str = "GET",
) -> tuple[int, dict, dict[str, str]]:
    """One fix as daphne serves it (TrackerFastPath) or through Django's stack: status, body, headers."""
    url = f"{path}?{urlencode(params)}"
    if transport == "fast_path":
        status, body, sent = call(method, url, client=client, headers=headers, raw=True)
        return status, json.loads(body), {k.decode().lower(): v.decode() for k, v in sent.items()}
    response = Client().generic(method, url, REMOTE_ADDR=client, headers=headers)
    return response.status_code, response.json(), {k.lower(): v for k, v in response.headers.items()}


def stored(answer: tuple) -> bool:
    return answer[0] == 200 and answer[1]["stored"] is True


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_key_is_the_credential_and_the_imei_alone_is_refused(world, transport):
    assert stored(send(transport, fix_params(soon(1))))
    status, body, _ = send(transport, {**fix_params(soon(2)), "id": DEVICE})
    assert (status, body["code"]) == (404, "unknown_device")
    assert PositionReport.objects.filter(unit=world.als1).count() == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_key_may_be_the_last_segment_of_the_server_url(world, transport):
    """For trackers whose device identifier must stay the IMEI: the server URL carries the key."""
    path = f"{URL}/{world.als1.tracker_key}"
    assert stored(send(transport, {**fix_params(soon(1)), "id": DEVICE}, path=path))
    assert stored(send(transport, {**fix_params(soon(2)), "id": "any-name"}, path=path, method="POST"))
    body = {"device_id": DEVICE, "location": {"coords": {"latitude": LAT, "longitude": LON}}}
    if transport == "fast_path":
        status, answer = call("POST", path, json.dumps(body).encode(), "application/json", client=OUTSIDE)
    else:
        response = Client().post(path, json.dumps(body), content_type="application/json")
        status, answer = response.status_code, response.json()
    assert (status, answer["stored"]) == (200, True)
    assert PositionReport.objects.filter(unit=world.als1).count() == 3
    wrong = f"{URL}/{secrets.token_urlsafe(24)}"
    assert send(transport, {**fix_params(soon(4)), "id": DEVICE}, path=wrong)[0] == 404


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_unknown_wrong_and_outside_imei_get_exactly_the_same_answer(world, transport):
    """Nothing in the answer tells a guesser which ids exist, nor repeats what it sent."""
    tried = {
        "unknown id": ({"id": "stranger-7"}, URL),
        "wrong key": ({"id": secrets.token_urlsafe(24)}, URL),
        "IMEI from outside": ({"id": DEVICE}, URL),
        "wrong key in the URL": ({"id": DEVICE}, f"{URL}/{secrets.token_urlsafe(24)}"),
        "IMEI in the URL": ({"id": "x"}, f"{URL}/{DEVICE}"),
        "garbage from a known IMEI": ({"id": DEVICE, "lat": "95"}, URL),
        "garbage from a stranger": ({"id": "stranger-8", "lat": "north"}, URL),
    }
    answers = {}
    for name, (change, path) in tried.items():
        status, body, _ = send(transport, {**fix_params(), **change}, path=path)
        answers[name] = (status, body)
        sent = change["id"] if path == URL else path.rsplit("/", 1)[1]
        assert sent not in json.dumps(body, ensure_ascii=False), name
    assert len(set(map(repr, answers.values()))) == 1, answers
    assert answers["unknown id"][0] == 404
    assert not PositionReport.objects.exists()


def test_both_paths_give_the_same_refusal(world):
    params = {**fix_params(), "id": "stranger-7"}
    (fast, fast_body, _), (django, django_body, _) = send("fast_path", params), send("django", params)
    django_body.pop("detail")  # django-ninja fills ErrorOut's optional field
    assert (fast, fast_body) == (django, django_body)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_imei_alone_works_only_from_a_listed_network(world, transport, settings):
    settings.TRACKER_IMEI_NETWORKS = ["10.20.0.0/16", "fd00:120::/32"]
    imei = {"id": DEVICE}
    assert stored(send(transport, {**fix_params(soon(1)), **imei}, client="10.20.3.4"))
    assert stored(send(transport, {**fix_params(soon(2)), **imei}, client="fd00:120::7"))
    assert send(transport, {**fix_params(soon(3)), **imei}, client="10.21.0.1")[0] == 404
    assert send(transport, {**fix_params(soon(4)), **imei}, client=OUTSIDE)[0] == 404
    # Without a proxy, X-Forwarded-For is the client's own word.
    forged = {"X-Forwarded-For": "10.20.3.4"}
    assert send(transport, {**fix_params(soon(5)), **imei}, headers=forged)[0] == 404
    assert PositionReport.objects.filter(unit=world.als1).count() == 2


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_behind_the_proxy_the_hop_it_appended_decides(world, transport, settings):
    settings.TRACKER_IMEI_NETWORKS = ["10.20.0.0/16"]
    settings.BEHIND_PROXY = True
    imei = {"id": DEVICE}
    proxied = {"X-Forwarded-For": "10.20.3.4"}
    assert stored(send(transport, {**fix_params(soon(1)), **imei}, client="127.0.0.1", headers=proxied))
    forged = {"X-Forwarded-For": f"10.20.3.4, {OUTSIDE}"}  # the client wrote the first hop itself
    assert send(transport, {**fix_params(soon(2)), **imei}, client="127.0.0.1", headers=forged)[0] == 404


def test_rotating_the_key_in_the_admin_stops_the_old_key_and_is_logged(world):
    old = world.als1.tracker_key
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", password="pw-root-120"))
    page = admin.get(f"/admin/fleet/unit/{world.als1.pk}/change/", HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200 and f"/api/osmand/{old}" in html and "device identifier" in html
    response = admin.post(
        "/admin/fleet/unit/",
        {"action": "rotate_tracker_key", "_selected_action": [world.als1.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert response.status_code == 200 and "New tracker key for T-ALS-1:" in response.content.decode()
    world.als1.refresh_from_db()
    new = world.als1.tracker_key
    assert new != old and len(new) >= 32
    assert send("django", {**fix_params(soon(1)), "id": old})[0] == 404
    assert send("fast_path", {**fix_params(soon(2)), "id": old})[0] == 404
    assert send("fast_path", {**fix_params(soon(3)), "id": "x"}, path=f"{URL}/{old}")[0] == 404
    assert stored(send("fast_path", {**fix_params(soon(4)), "id": new}))
    entry = LogEntry.objects.get(object_id=str(world.als1.pk))
    assert entry.action_flag == CHANGE
    assert json.loads(entry.change_message) == [{"changed": {"fields": ["tracker key"]}}]
    events = json.dumps(list(Event.objects.values_list("data", flat=True)))
    assert old not in events and new not in events  # the audit trail says "changed", not the key
    assert Unit.objects.get(pk=world.als2.pk).tracker_key == world.als2.tracker_key  # others kept


def test_only_who_may_change_units_may_rotate_keys(world):
    viewer = User.objects.create_user("viewer", password="pw-viewer-120", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_unit"))
    client = Client()
    client.force_login(viewer)
    assert client.get("/admin/fleet/unit/").status_code == 200
    client.post("/admin/fleet/unit/", {"action": "rotate_tracker_key", "_selected_action": [world.als1.pk]})
    assert Unit.objects.get(pk=world.als1.pk).tracker_key == world.als1.tracker_key
    assert not LogEntry.objects.exists()


def test_unknown_ids_are_counted_together_not_one_row_each(world):
    for n in range(25):
        transport = TRANSPORTS[n % 2]
        assert send(transport, {**fix_params(), "id": f"guess-{n:03d}"}, client=f"198.51.100.{n}")[0] == 404
    rows = list(RejectedFix.objects.all())
    assert len(rows) <= 2  # one per reason and hour: two only if the hour turned mid-test
    assert {r.reason for r in rows} == {"unknown_device"} and sum(r.count for r in rows) == 25
    assert all(r.device.startswith("(unknown) ") and r.unit_id is None for r in rows)
    assert not any("guess-" in r.device + r.last_message for r in rows)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_too_many_unknown_ids_from_one_address_get_429_and_known_keys_never(
    world, transport, settings, monkeypatch
):
    settings.RATE_LIMITS_PER_MINUTE = {**settings.RATE_LIMITS_PER_MINUTE, "tracker_unknown": 3}
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_010.0))  # one minute
    for n in range(3):
        assert send(transport, {**fix_params(), "id": f"guess-{n}"})[0] == 404
    status, body, headers = send(transport, {**fix_params(), "id": "guess-3"})
    assert (status, body["code"]) == (429, "rate_limited") and int(headers["retry-after"]) >= 1
    assert send(transport, {**fix_params(), "id": DEVICE})[0] == 429  # an IMEI from outside too
    for n in range(5):  # the same address, over its limit: a known key is never held up
        assert stored(send(transport, fix_params(soon(n))))
    assert stored(send(transport, {"id": "x", **fix_params(soon(9))}, path=f"{URL}/{key()}"))
    assert send(transport, {**fix_params(), "id": "guess-4"}, client="198.51.100.1")[0] == 404
    assert sum(RejectedFix.objects.values_list("count", flat=True)) == 4  # refused by the limit: uncounted


def test_the_migration_gives_every_existing_unit_its_own_key():
    before, after = [("fleet", "0004_unit_out_of_service")], [("fleet", "0005_unit_tracker_key")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        OldUnit = MigrationExecutor(connection).loader.project_state(before).apps.get_model("fleet", "Unit")
        for n in range(6):
            OldUnit.objects.create(
                call_sign=f"OLD-{n}", kind="bls", tracker_id=f"imei-{n}" if n % 2 else None
            )
        MigrationExecutor(connection).migrate(after)
        keys = list(Unit.objects.filter(call_sign__startswith="OLD-").values_list("tracker_key", flat=True))
        assert len(keys) == 6 and len(set(keys)) == 6
        assert all(len(k) >= 32 for k in keys)  # 24 random bytes, URL-safe base64
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    field = Unit._meta.get_field("tracker_key")
    assert field.unique and not field.null and not field.blank
