"""The call-back API's refusals: roles that may not (crews, hospitals, screens and admins never
see the caller numbers of the list), bad input (4xx, nothing written), unknown ids (404)."""

import pytest

from dispatch.models import CallBack, Event, Role, User
from tests.support.fake_twilio import fake_twilio  # noqa: F401  (fixture)
from tests.support.missed_calls import call_back, client_for, missed_call, outcome

pytestmark = pytest.mark.django_db


@pytest.fixture
def outsiders(world):
    wall = User.objects.create_user("wall", role=Role.WALLBOARD)
    return [world.carol, world.dave, world.erin, wall]


def test_only_dispatchers_and_supervisors_read_or_call_back(world, outsiders, fake_twilio):  # noqa: F811
    call = missed_call("CA-perm", "+8613955556666")
    attempt = call_back(world.alice, call).json()["call_back"]["id"]
    for user in outsiders:
        client = client_for(user)
        listing = client.get("/api/call-backs")
        assert listing.status_code == 403, user.username
        assert b"13955556666" not in listing.content
        assert call_back(user, call).status_code == 403, user.username
        assert outcome(user, attempt, "reached").status_code == 403, user.username
    assert CallBack.objects.get().outcome == ""
    anonymous = client_for(world.alice)
    anonymous.logout()
    assert anonymous.get("/api/call-backs").status_code == 401


def test_unknown_ids_are_404(world):
    assert call_back(world.alice, type("C", (), {"pk": 987654})()).status_code == 404
    assert outcome(world.alice, 987654, "reached").status_code == 404


@pytest.mark.parametrize(
    "body",
    [{"outcome": "maybe"}, {"outcome": ""}, {}, {"outcome": 3}, {"outcome": "reached\u0000"}],
)
def test_a_bad_outcome_is_refused_and_changes_nothing(world, fake_twilio, body):  # noqa: F811
    call = missed_call("CA-bad-outcome")
    attempt = call_back(world.alice, call).json()["call_back"]["id"]
    before = Event.objects.count()
    response = client_for(world.alice).post(
        f"/api/call-backs/{attempt}/outcome", body, content_type="application/json"
    )
    assert 400 <= response.status_code < 500 and response.status_code != 404
    assert CallBack.objects.get().outcome == "" and Event.objects.count() == before


def test_a_body_that_is_not_json_is_400(world, fake_twilio):  # noqa: F811
    attempt = call_back(world.alice, missed_call("CA-json")).json()["call_back"]["id"]
    response = client_for(world.alice).post(
        f"/api/call-backs/{attempt}/outcome", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert CallBack.objects.get().outcome == ""
