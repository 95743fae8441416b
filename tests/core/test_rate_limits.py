"""The pages anyone can reach without signing in answer 429 to a client that asks too often: the
sign-in form (on top of the per-user lock-out) and the SMS location links, whose tokens must not
be guessed. Other clients, and the same client a minute later, go on."""

import pytest
from django.test import Client

from dispatch.core.ratelimit import Counter
from dispatch.models import CallerLocation
from tests.support.calls_helpers import send_link, taken_call

pytestmark = pytest.mark.django_db

POSITION = {"lat": 24.9512, "lon": 119.6012, "accuracy_m": 18.5}


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.RATE_LIMITS_PER_MINUTE = {"sign_in": 4, "location_link": 3}
    settings.AXES_FAILURE_LIMIT = 100  # the lock-out is tested on its own (test_sign_in_throttle)


def from_address(address: str) -> Client:
    return Client(REMOTE_ADDR=address, headers={"Accept-Language": "en"})


def test_sign_in_attempts_from_one_address_are_limited(world):
    client = from_address("10.7.0.1")
    for name in ("u1", "u2", "u3", "u4"):
        assert client.post("/login/", {"username": name, "password": "x"}).status_code == 200
    refused = client.post("/login/", {"username": "alice", "password": "pw-alice-120"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many requests" in refused.content.decode()
    assert "_auth_user_id" not in client.session  # even the right password did not sign in
    # The form itself still opens, and another address signs in.
    assert client.get("/login/").status_code == 200
    assert (
        from_address("10.7.0.2")
        .post("/login/", {"username": "alice", "password": "pw-alice-120"})
        .status_code
        == 302
    )


def test_guessing_location_tokens_is_limited_and_a_real_link_still_works_elsewhere(world):
    path = send_link(world, taken_call(world))
    guesser = from_address("10.8.0.1")
    for n in range(3):
        assert guesser.get(f"/l/guess{n}").status_code == 410
    assert guesser.get(path).status_code == 429  # even the real token, from this address
    assert guesser.post(path, POSITION, content_type="application/json").status_code == 429
    assert not CallerLocation.objects.exists()
    caller = from_address("10.8.0.2")
    assert caller.get(path).status_code == 200
    assert caller.post(path, POSITION, content_type="application/json").status_code == 200
    assert CallerLocation.objects.count() == 1


def test_behind_the_proxy_the_client_is_the_hop_haproxy_added(world, settings):
    settings.BEHIND_PROXY = True
    proxy = Client(REMOTE_ADDR="127.0.0.1")
    for n in range(3):
        headers = {"X-Forwarded-For": f"1.2.3.{n}, 10.9.0.1"}  # the first hop is the client's own word
        assert proxy.get(f"/l/guess{n}", headers=headers).status_code == 410
    assert proxy.get("/l/x", headers={"X-Forwarded-For": "9.9.9.9, 10.9.0.1"}).status_code == 429
    assert proxy.get("/l/x", headers={"X-Forwarded-For": "10.9.0.2"}).status_code == 410


def test_a_new_minute_starts_the_count_again():
    counter = Counter()
    assert [counter.seconds_to_wait("a", 2, now=120.0) for _ in range(3)] == [0, 0, 60]
    assert counter.seconds_to_wait("b", 2, now=150.0) == 0
    assert counter.seconds_to_wait("a", 2, now=175.5) == 4
    assert counter.seconds_to_wait("a", 2, now=180.0) == 0
