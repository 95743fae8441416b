"""Guessing passwords stops working: after SIGN_IN_FAILURE_LIMIT wrong passwords a user name is
locked, and so is the address they came from, each on its own; a right password during the lock
does not open it; every attempt is an audit event only administrators receive."""

import pytest
from django.test import Client

from dispatch.core.permissions import visible_events
from dispatch.models import Event

pytestmark = pytest.mark.django_db

LIMIT = 5


def sign_in(username: str, password: str, address: str = "10.0.0.1") -> int:
    response = Client(REMOTE_ADDR=address, headers={"Accept-Language": "en"}).post(
        "/login/", {"username": username, "password": password}
    )
    return response.status_code


@pytest.fixture(autouse=True)
def limit(settings) -> None:
    settings.AXES_FAILURE_LIMIT = LIMIT


def test_a_user_name_is_locked_after_the_limit_from_any_address(world):
    for k in range(LIMIT - 1):
        assert sign_in("alice", "wrong", f"10.0.1.{k}") == 200  # the form again, with its error
    assert sign_in("alice", "wrong", "10.0.2.1") == 429
    # Locked: the right password from yet another address is refused too.
    assert sign_in("alice", "pw-alice-120", "10.0.3.1") == 429
    # Another user is not locked by it.
    assert sign_in("bob", "pw-bob-120", "10.0.4.1") == 302


def test_an_address_is_locked_after_the_limit_whatever_names_it_tries(world):
    for name in ("alice", "bob", "carol", "dave"):
        assert sign_in(name, "wrong", "10.9.9.9") == 200
    assert sign_in("erin", "wrong", "10.9.9.9") == 429
    assert sign_in("erin", "pw-erin-120", "10.9.9.9") == 429
    assert sign_in("erin", "pw-erin-120", "10.9.9.10") == 302


def test_the_lock_page_says_when_to_try_again_in_the_users_language(world):
    for _ in range(LIMIT):
        sign_in("alice", "wrong")
    page = Client(REMOTE_ADDR="10.0.0.1", headers={"Accept-Language": "zh-hans"}).post(
        "/login/", {"username": "alice", "password": "wrong"}
    )
    assert page.status_code == 429
    text = page.content.decode()
    assert "15 分钟" in text and 'name="password"' not in text


def test_a_right_password_before_the_limit_clears_the_count(world):
    for _ in range(LIMIT - 1):
        sign_in("alice", "wrong")
    assert sign_in("alice", "pw-alice-120") == 302
    for _ in range(LIMIT - 1):
        assert sign_in("alice", "wrong") == 200


def test_every_attempt_is_an_audit_event_only_administrators_receive(world):
    sign_in("alice", "wrong", "10.7.7.7")
    sign_in("nobody-we-know", "x", "10.7.7.8")
    sign_in("alice", "pw-alice-120", "10.7.7.7")
    failed = Event.objects.filter(kind="audit.sign_in_failed").order_by("seq")
    assert [(e.data["username"], e.data["user"], e.data["ip"]) for e in failed] == [
        ("alice", world.alice.pk, "10.7.7.7"),
        ("nobody-we-know", None, "10.7.7.8"),
    ]
    signed_in = Event.objects.get(kind="audit.signed_in")
    assert signed_in.actor == world.alice and signed_in.data["ip"] == "10.7.7.7"
    assert visible_events(world.erin).filter(kind__startswith="audit.").count() == 3
    for user in (world.alice, world.bob, world.dave, world.carol):
        assert not visible_events(user).filter(kind__startswith="audit.").exists()


def test_signing_out_is_recorded(world):
    client = Client()
    assert client.post("/login/", {"username": "bob", "password": "pw-bob-120"}).status_code == 302
    client.post("/logout/")
    assert Event.objects.filter(kind="audit.signed_out", actor=world.bob).count() == 1


@pytest.mark.parametrize(
    "password, complaint",
    [
        ("1234567890", "password_entirely_numeric"),
        ("password12", "password_too_common"),
        ("short1", "password_too_short"),
    ],
)
def test_weak_passwords_are_refused(world, password, complaint):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        validate_password(password, world.alice)
    assert complaint in {error.code for error in refused.value.error_list}
