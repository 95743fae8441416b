"""Two-factor sign-in: administrators and supervisors must add a code from an authenticator app
to their password, and set one up before anything else; anyone else may. Codes are real TOTP
codes computed from the device's key (tests/support/two_factor.py). A wrong code is a failed
sign-in (counted towards the lock-out, an audit event); setting up, confirming and removing are
audit events; a session that owes its second factor reaches no page, no API route and no socket."""

import asyncio
import re
import time

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from dispatch.asgi import application
from dispatch.models import Event, Role, User
from tests.support.live_sockets import SITE, receive_until_cursor
from tests.support.two_factor import (
    give_device,
    next_code,
    password_only_login,
    sign_in_with_code,
    wrong_code,
)

pytestmark = pytest.mark.django_db

PASSWORDS = {"alice": "pw-alice-120", "bob": "pw-bob-120", "erin": "pw-erin-120"}
LIMIT = 5
SET_UP = "/account/two-factor/"
CODE = "/login/code/"


def browser(address: str = "10.0.0.1") -> Client:
    return Client(REMOTE_ADDR=address, headers={"Accept-Language": "en"})


def password_step(client: Client, username: str, next_url: str = ""):
    data = {"username": username, "password": PASSWORDS[username]}
    if next_url:
        data["next"] = next_url
    return client.post("/login/", data)


def audit(kind: str) -> list[Event]:
    return list(Event.objects.filter(kind=f"audit.{kind}").order_by("seq"))


def is_sent_to(response, path: str) -> bool:
    return response.status_code == 302 and response["Location"].startswith(path)


@pytest.fixture(autouse=True)
def limit(settings) -> None:
    settings.AXES_FAILURE_LIMIT = LIMIT


@pytest.fixture
def erin_owes_set_up(world) -> Client:
    """Erin, an administrator with no authenticator, past her password."""
    client = browser()
    assert is_sent_to(password_step(client, "erin"), "/")
    return client


def test_an_administrator_without_a_device_sets_one_up_before_anything_else(world, erin_owes_set_up):
    client = erin_owes_set_up
    for path in ("/admin/", "/reports/", "/console/", "/", "/admin/dispatch/user/"):
        answer = client.get(path)
        assert is_sent_to(answer, SET_UP), path
        assert f"next={path.replace('/', '%2F')}" in answer["Location"]
    for method, path in (("get", "/api/incidents"), ("get", "/api/me"), ("get", "/api/schema/")):
        answer = getattr(client, method)(path)
        assert answer.status_code == 403, path
        assert answer.json()["code"] == "second_factor_setup_required"
        assert SET_UP in answer.json()["error"]
    page = client.get(SET_UP)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "<script" not in html.split("<main")[1].split("</main>")[0]
    secret = re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    device = TOTPDevice.objects.get(user=world.erin)
    assert not device.confirmed and len(secret) == 32
    import base64

    assert base64.b32decode(secret) == device.bin_key
    # One set-up begun, whatever the reloads.
    client.get(SET_UP)
    assert [e.actor for e in audit("two_factor_enrolling")] == [world.erin]
    assert TOTPDevice.objects.filter(user=world.erin).count() == 1


def test_a_supervisor_is_held_the_same_way(world):
    client = browser()
    password_step(client, "bob")
    assert is_sent_to(client.get("/reports/"), SET_UP)
    assert client.get("/api/reports/summary").status_code == 403


def test_a_wrong_code_at_set_up_changes_nothing(world, erin_owes_set_up):
    client = erin_owes_set_up
    client.get(SET_UP)
    device = TOTPDevice.objects.get(user=world.erin)
    answer = client.post(SET_UP, {"action": "confirm", "code": wrong_code(device)})
    assert answer.status_code == 200 and "Wrong or expired code" in answer.content.decode()
    device.refresh_from_db()
    assert not device.confirmed and device.key == TOTPDevice.objects.get(user=world.erin).key
    assert audit("two_factor_confirmed") == []
    assert is_sent_to(client.get("/admin/"), SET_UP)
    assert client.get("/api/incidents").status_code == 403
    # Not a number at all, or nothing: the same.
    for code in ("abcdef", "", "1" * 40):
        assert client.post(SET_UP, {"action": "confirm", "code": code}).status_code == 200
    assert not TOTPDevice.objects.get(user=world.erin).confirmed


def test_the_right_code_turns_it_on_and_opens_every_page(world, erin_owes_set_up):
    client = erin_owes_set_up
    assert is_sent_to(client.get("/reports/"), SET_UP)
    client.get(SET_UP)
    device = TOTPDevice.objects.get(user=world.erin)
    answer = client.post(SET_UP, {"action": "confirm", "code": next_code(device), "next": "/reports/"})
    # The answer shows the backup codes, this once, and goes on to where she was going.
    assert answer.status_code == 200
    html = answer.content.decode()
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", html)
    assert len(set(codes)) == 8 and 'href="/reports/" id="two-factor-continue"' in html
    device.refresh_from_db()
    assert device.confirmed
    confirmed = audit("two_factor_confirmed")
    assert [(e.actor, e.data["backup_codes"]) for e in confirmed] == [(world.erin, 8)]
    assert not any(code in str(e.data) for e in Event.objects.all() for code in codes)
    for path in ("/admin/", "/reports/", "/map/"):
        assert client.get(path).status_code == 200, path
    assert client.get("/api/incidents").status_code == 200
    # The page now says it is on, and offers to remove it.
    assert 'id="two-factor-on"' in client.get(SET_UP).content.decode()


def test_a_code_spaced_as_the_app_shows_it_is_taken(world, erin_owes_set_up):
    client = erin_owes_set_up
    client.get(SET_UP)
    device = TOTPDevice.objects.get(user=world.erin)
    code = next_code(device)
    assert client.post(SET_UP, {"action": "confirm", "code": f" {code[:3]} {code[3:]} "}).status_code == 200
    assert TOTPDevice.objects.get(user=world.erin).confirmed


def test_signing_in_then_asks_for_the_code_and_only_the_code_signs_in(world):
    device = give_device(world.erin)
    client = browser("10.3.3.3")
    answer = password_step(client, "erin", next_url="/reports/?unit=T-ALS-1")
    assert is_sent_to(answer, CODE) and "next=%2Freports%2F%3Funit%3DT-ALS-1" in answer["Location"]
    # The password alone signs nobody in.
    assert is_sent_to(client.get("/admin/"), "/admin/login/")
    assert is_sent_to(client.get("/reports/"), "/login/")
    assert client.get("/api/me").status_code == 401
    assert audit("signed_in") == []
    page = client.get(answer["Location"])
    assert page.status_code == 200 and 'name="code"' in page.content.decode()
    answer = client.post(CODE, {"code": next_code(device), "next": "/reports/?unit=T-ALS-1"})
    assert is_sent_to(answer, "/reports/?unit=T-ALS-1")
    assert client.get("/admin/").status_code == 200
    assert client.get("/api/me").json()["username"] == "erin"
    signed_in = audit("signed_in")
    assert [(e.actor, e.data["ip"]) for e in signed_in] == [(world.erin, "10.3.3.3")]
    # The session lasts an administrator's shift, counted from the code.
    assert 3.9 * 3600 < (client.session.get_expiry_date() - signed_in[0].at).total_seconds() <= 4 * 3600 + 5


def test_a_wrong_code_is_refused_and_counted_as_a_failed_sign_in(world):
    device = give_device(world.bob)
    client = browser("10.4.4.4")
    password_step(client, "bob")
    answer = client.post(CODE, {"code": wrong_code(device)})
    assert answer.status_code == 200 and "Wrong or expired code" in answer.content.decode()
    assert is_sent_to(client.get("/reports/"), "/login/")
    assert client.get("/api/me").status_code == 401
    failed = audit("sign_in_failed")
    assert [(e.data["username"], e.data["user"], e.data["ip"], e.data["step"]) for e in failed] == [
        ("bob", world.bob.pk, "10.4.4.4", "code")
    ]
    # Counted with wrong passwords towards the same lock-out: then even the right code is refused.
    for _ in range(LIMIT - 2):
        assert client.post(CODE, {"code": wrong_code(device)}).status_code == 200
    assert client.post(CODE, {"code": wrong_code(device)}).status_code == 429
    time.sleep(1.1)  # past django-otp's own pause after a wrong code, so only the lock-out refuses
    assert client.post(CODE, {"code": next_code(device)}).status_code == 429
    assert client.get("/api/me").status_code == 401
    assert password_step(browser("10.4.4.5"), "bob").status_code == 429
    assert audit("signed_in") == []
    *codes, password = audit("sign_in_failed")
    assert [e.data["step"] for e in codes] == ["code"] * (LIMIT + 1) and codes[-1].data["locked_out"]
    assert password.data["step"] == "password" and password.data["locked_out"]


def test_a_right_code_after_a_wrong_one_signs_in_and_clears_the_count(world):
    device = give_device(world.bob)
    client = browser()
    password_step(client, "bob")
    client.post(CODE, {"code": wrong_code(device)})
    time.sleep(1.1)  # django-otp pauses a device for a second after a wrong code
    assert is_sent_to(client.post(CODE, {"code": next_code(device)}), "/")
    assert client.get("/reports/").status_code == 200


def test_the_code_page_without_a_password_step_goes_back_to_the_password(world):
    give_device(world.bob)
    client = browser()
    assert is_sent_to(client.get(CODE), "/login/")
    assert is_sent_to(client.post(CODE, {"code": "123456"}), "/login/")
    assert audit("sign_in_failed") == []


def test_a_dispatcher_without_a_device_signs_in_as_before(world):
    client = browser()
    assert is_sent_to(password_step(client, "alice"), "/")
    assert client.get("/console/").status_code == 200
    assert client.get("/api/incidents").status_code == 200
    assert not TOTPDevice.objects.filter(user=world.alice).exists()
    # The set-up is offered from every page, and optional.
    home = client.get("/console/").content.decode()
    assert f'href="{SET_UP}"' in home
    assert "Optional" in client.get(SET_UP).content.decode()


def test_a_dispatcher_who_set_one_up_must_give_the_code_and_may_remove_it(world):
    client = browser()
    password_step(client, "alice")
    client.get(SET_UP)
    device = TOTPDevice.objects.get(user=world.alice)
    assert (
        'id="two-factor-backup-codes"'
        in client.post(SET_UP, {"action": "confirm", "code": next_code(device)}).content.decode()
    )
    assert StaticDevice.objects.filter(user=world.alice).exists()
    client.post("/logout/")
    answer = password_step(client, "alice")
    assert is_sent_to(answer, CODE)
    assert is_sent_to(client.get("/console/"), "/login/")
    assert is_sent_to(client.post(CODE, {"code": next_code(device)}), "/")
    assert client.get("/console/").status_code == 200
    # Removing it takes a current code: a session left open cannot do it with a wrong one.
    assert client.post(SET_UP, {"action": "remove", "code": wrong_code(device)}).status_code == 200
    assert TOTPDevice.objects.filter(user=world.alice, confirmed=True).exists()
    time.sleep(1.1)
    assert is_sent_to(client.post(SET_UP, {"action": "remove", "code": next_code(device)}), SET_UP)
    assert not TOTPDevice.objects.filter(user=world.alice).exists()
    assert not StaticDevice.objects.filter(user=world.alice).exists()  # the backup codes went too
    assert client.get("/console/").status_code == 200  # optional for her: nothing owed
    assert [e.kind for e in Event.objects.filter(kind__startswith="audit.two_factor").order_by("seq")] == [
        "audit.two_factor_enrolling",
        "audit.two_factor_confirmed",
        "audit.two_factor_removed",
    ]
    fresh = browser()
    assert is_sent_to(password_step(fresh, "alice"), "/")
    assert fresh.get("/console/").status_code == 200


def test_an_administrator_who_removes_hers_must_set_up_another_straight_away(world):
    device = give_device(world.erin)
    client = sign_in_with_code("erin", PASSWORDS["erin"], device)
    client.post(SET_UP, {"action": "remove", "code": next_code(device)})
    assert is_sent_to(client.get("/admin/"), SET_UP)


def test_a_supervisors_session_that_has_not_given_the_code_must_give_it(world):
    """A supervisor signed in at two consoles, the device set up at one: the other, signed in
    with the password alone, now owes the code."""
    device = give_device(world.bob)
    other = browser()
    password_only_login(other, world.bob)
    assert is_sent_to(other.get("/console/"), CODE)
    assert is_sent_to(other.get("/admin/"), CODE)
    answer = other.get("/api/incidents")
    assert answer.status_code == 403 and answer.json()["code"] == "second_factor_required"
    assert CODE in answer.json()["error"]
    assert other.get(CODE).status_code == 200
    assert is_sent_to(other.post(CODE, {"code": next_code(device), "next": "/console/"}), "/console/")
    assert other.get("/console/").status_code == 200
    assert other.get("/api/incidents").status_code == 200


def test_a_dispatchers_session_from_before_her_set_up_goes_on(world):
    """For a role that may choose, the code is asked at sign-in: a console she signed in at
    before setting up her device stays signed in (and her requests cost no query for it)."""
    give_device(world.alice)
    other = browser()
    password_only_login(other, world.alice)
    assert other.get("/console/").status_code == 200
    assert is_sent_to(password_step(browser(), "alice"), CODE)


def test_the_required_roles_come_from_settings(world, settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = ["dispatcher"]
    alice = browser()
    password_step(alice, "alice")
    assert is_sent_to(alice.get("/console/"), SET_UP)
    erin = browser()
    password_step(erin, "erin")
    assert erin.get("/admin/").status_code == 200


def test_a_next_address_elsewhere_is_not_followed(world):
    device = give_device(world.bob)
    client = browser()
    password_step(client, "bob")
    answer = client.post(CODE, {"code": next_code(device), "next": "https://evil.example/"})
    assert is_sent_to(answer, "/") and "evil" not in answer["Location"]


def test_the_schema_documents_the_refusal_on_every_signed_in_route(world):
    schema = sign_in_with_code("erin", PASSWORDS["erin"], give_device(world.erin)).get("/api/schema/").json()
    signed_in = [
        (path, method, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if operation.get("security")
    ]
    assert signed_in
    for path, method, operation in signed_in:
        assert "second_factor_required" in operation["responses"]["403"]["description"], (method, path)


# ---- The live socket ----


def cookie_of(client: Client) -> bytes:
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def first_answer(cookie: bytes) -> tuple[dict, dict | None]:
    socket = WebsocketCommunicator(application, "/ws/live/", headers=[(b"cookie", cookie), *SITE])
    connected, _ = await socket.connect()
    assert connected
    message = await socket.receive_json_from(timeout=5)
    close = await socket.receive_output(timeout=5) if message["type"] == "error" else None
    await socket.disconnect()
    return message, close


@pytest.mark.django_db(transaction=True)
def test_a_socket_of_a_session_that_owes_its_second_factor_is_refused(world):
    owes_set_up = browser()
    password_only_login(owes_set_up, world.erin)
    owes_code = browser()
    give_device(world.bob)
    password_only_login(owes_code, world.bob)
    passed = sign_in_with_code("alice", PASSWORDS["alice"], give_device(world.alice))
    for client in (owes_set_up, owes_code):
        message, close = asyncio.run(first_answer(cookie_of(client)))
        assert message == {"type": "error", "reason": "second factor required"}
        assert close == {"type": "websocket.close", "code": 4401}
    message, close = asyncio.run(first_answer(cookie_of(passed)))
    assert message["type"] != "error" and close is None


@pytest.mark.django_db(transaction=True)
def test_a_socket_is_closed_when_its_session_stops_having_passed(world, settings):
    """Signed in with the code, then the device removed (at another console, or by an
    administrator): the administrator's socket is closed at the next heartbeat."""
    settings.LIVE_HEARTBEAT_SECONDS = 0.5
    device = give_device(world.erin)
    client = sign_in_with_code("erin", PASSWORDS["erin"], device)

    async def scenario() -> int | None:
        headers = [(b"cookie", cookie_of(client)), *SITE]
        socket = WebsocketCommunicator(application, "/ws/live/", headers=headers)
        assert (await socket.connect())[0]
        await receive_until_cursor(socket)
        # channels' wrapper: its thread's connection is closed after, not left open past the test
        await database_sync_to_async(TOTPDevice.objects.filter(pk=device.pk).delete)()
        deadline = asyncio.get_running_loop().time() + 5
        while asyncio.get_running_loop().time() < deadline:
            message = await socket.receive_output(timeout=5)
            if message["type"] == "websocket.close":
                return message["code"]
        return None

    assert asyncio.run(scenario()) == 4401


def test_the_admin_lists_devices_but_never_shows_their_keys(world):
    """An administrator deletes a lost phone's device; reading the secret would let them pass
    as its owner."""
    device = give_device(world.bob)
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", password="pw-root-120", role=Role.ADMIN))
    page = admin.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert page.status_code == 200
    assert device.key not in page.content.decode()
    assert admin.get("/admin/otp_totp/totpdevice/").status_code == 200
    backup = StaticDevice.objects.create(user=world.bob, name="backup", confirmed=True)
    backup.token_set.create(token="abcd2345")
    page = admin.get(f"/admin/otp_static/staticdevice/{backup.pk}/change/")
    assert page.status_code == 200 and "abcd2345" not in page.content.decode()


def set_up_with_backup_codes(client: Client, user) -> tuple[TOTPDevice, list[str]]:
    client.get(SET_UP)
    device = TOTPDevice.objects.get(user=user)
    page = client.post(SET_UP, {"action": "confirm", "code": next_code(device)}).content.decode()
    return device, re.findall(r"<li>([a-z2-7]{8})</li>", page)


def test_a_backup_code_signs_in_once_in_place_of_the_app(world):
    client = browser("10.6.6.6")
    password_step(client, "erin")
    device, codes = set_up_with_backup_codes(client, world.erin)
    assert len(codes) == 8
    assert "Backup codes left: 8" in client.get(SET_UP).content.decode()
    client.post("/logout/")
    # The phone is lost: a backup code, typed in capitals with a space, signs her in.
    password_step(client, "erin")
    code = codes[3]
    assert is_sent_to(client.post(CODE, {"code": f"{code[:4].upper()} {code[4:]}"}), "/")
    assert client.get("/admin/").status_code == 200
    assert "Backup codes left: 7" in client.get(SET_UP).content.decode()
    client.post("/logout/")
    # Used up: the same code again is a failed sign-in.
    password_step(client, "erin")
    answer = client.post(CODE, {"code": code})
    assert answer.status_code == 200 and "Wrong or expired code" in answer.content.decode()
    assert is_sent_to(client.get("/admin/"), "/admin/login/")
    assert [e.data["step"] for e in audit("sign_in_failed")] == ["code"]
    # Another one still works; codes of another user do not.
    other = browser("10.6.6.7")
    password_step(other, "alice")
    _, alices = set_up_with_backup_codes(other, world.alice)
    assert client.post(CODE, {"code": alices[0]}).status_code == 200
    time.sleep(1.1)  # django-otp's pause after a wrong code
    assert is_sent_to(client.post(CODE, {"code": codes[0]}), "/")
