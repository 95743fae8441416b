"""/audit/ and its CSV are for administrators: every other role is refused (403) and shown
nothing of the trail; anyone signed out is sent to sign in. Only administrators see the link."""

import pytest
from django.test import Client

from tests.support.audit_trail import audit_event

pytestmark = pytest.mark.django_db
URLS = ["/audit/", "/audit/export.csv", "/audit/?user=erin&kind=admin"]


@pytest.fixture
def trail(world):
    audit_event("audit.signed_in", actor=world.erin, ip="10.1.2.3")
    audit_event(
        "audit.admin_edit",
        actor=world.erin,
        action="changed",
        model="dispatch.user",
        object_id=str(world.alice.pk),
        object="secret-looking-object-text",
        changes={"role": ["dispatcher", "supervisor"]},
        username="erin",
    )


def client_of(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.mark.parametrize("name", ["alice", "bob", "carol", "dave"])
def test_every_other_role_is_refused(world, trail, name):
    client = client_of(getattr(world, name))
    for url in URLS:
        response = client.get(url)
        assert response.status_code == 403, (name, url)
        body = response.content.decode()
        assert "secret-looking-object-text" not in body and "10.1.2.3" not in body


def test_an_administrator_sees_the_trail_and_its_csv(world, trail):
    client = client_of(world.erin)  # an administrator by role, not a superuser
    page = client.get("/audit/")
    assert page.status_code == 200
    assert "secret-looking-object-text" in page.content.decode()
    csv = client.get("/audit/export.csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert "secret-looking-object-text" in b"".join(csv.streaming_content).decode()


def test_signed_out_visitors_are_sent_to_sign_in(world, trail):
    for url in URLS:
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_only_administrators_have_the_link(world):
    assert 'id="nav-audit"' in client_of(world.erin).get("/").content.decode()
    for name in ("alice", "bob", "carol", "dave"):
        assert 'id="nav-audit"' not in client_of(getattr(world, name)).get("/").content.decode(), name
