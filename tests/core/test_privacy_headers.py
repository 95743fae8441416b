"""What a browser may keep: API answers are no-store, signing out clears the site's data, and a
sign-in lasts as long as its role's shift, counted from signing in, however much it is used."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db

PASSWORDS = {
    "alice": "pw-alice-120",
    "bob": "pw-bob-120",
    "carol": "pw-carol-120",
    "dave": "pw-dave-120",
    "erin": "pw-erin-120",
}


def signed_in(username: str) -> Client:
    client = Client(REMOTE_ADDR="10.1.2.3", headers={"Accept-Language": "en"})
    assert client.post("/login/", {"username": username, "password": PASSWORDS[username]}).status_code == 302
    return client


def hours_left(client: Client) -> float:
    return (client.session.get_expiry_date() - timezone.now()).total_seconds() / 3600


def test_api_answers_with_patient_data_are_not_kept_by_any_cache(world):
    client = signed_in("alice")
    for path in ("/api/incidents", "/api/me", "/api/units"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Cache-Control"] == "no-store", path
    # A refusal too: it says whether an id exists.
    assert client.get("/api/incidents/999999")["Cache-Control"] == "no-store"


def test_signing_out_clears_the_sites_data_in_the_browser(world):
    client = signed_in("carol")
    response = client.post("/logout/")
    assert response.status_code == 302
    cleared = {part.strip().strip('"') for part in response["Clear-Site-Data"].split(",")}
    assert cleared == {"cache", "cookies", "storage"}
    assert client.get("/api/crew/assignment").status_code == 401


@pytest.mark.parametrize(
    ("username", "setting", "hours"),
    [
        ("alice", "dispatcher", 13),
        ("bob", "supervisor", 13),
        ("carol", "crew", 13),
        ("dave", "hospital", 24 * 30),
        ("erin", "admin", 4),
    ],
)
def test_a_sign_in_lasts_its_roles_shift(world, username, setting, hours):
    client = signed_in(username)
    assert hours - 0.1 < hours_left(client) <= hours


def test_the_lifetime_comes_from_settings(world, settings):
    settings.SESSION_HOURS_BY_ROLE = {**settings.SESSION_HOURS_BY_ROLE, "dispatcher": 2}
    assert 1.9 < hours_left(signed_in("alice")) <= 2


def test_using_a_session_does_not_extend_it_and_it_ends_on_time(world):
    client = signed_in("alice")
    ends = client.session.get_expiry_date()
    for _ in range(3):
        assert client.get("/api/incidents").status_code == 200
    assert client.session.get_expiry_date() == ends
    # The shift is over: the same cookie opens nothing.
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    assert client.get("/api/incidents").status_code == 401
    assert client.get("/console/").status_code == 302
