"""Users in the admin: added with a role, their station or hospital and phone; changed, deactivated
and given a new password there, every save through save_user (one user.saved event) and audited.
The password page applies the site's password rules; no page shows a password hash, not even in
part, and no event holds one."""

import pytest
from django.contrib.auth import authenticate
from django.test import Client, RequestFactory

from dispatch.models import Event, Role, User
from tests.support.audit_trail import admin_edits, admin_form, as_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(world) -> Client:
    world.erin.is_superuser = True
    world.erin.save(update_fields=["is_superuser"])
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.erin)
    return client


def save(client: Client, url: str, data: dict):
    return client.post(url, {**data, "_save": "Save"})


def saved_events() -> list[Event]:
    return list(Event.objects.filter(kind="user.saved").order_by("seq"))


def test_a_crew_member_added_with_station_phone_and_password(admin_client, world):
    add = "/admin/dispatch/user/add/"
    data = admin_form(admin_client, add, "user_form")
    data.update(
        username="grace",
        full_name="王 小红",
        usable_password="true",
        password1="Pw-grace-120-long",
        password2="Pw-grace-120-long",
        role="crew",
        station=str(world.north.pk),
        phone="+8613800000007",
    )
    response = save(admin_client, add, data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    grace = User.objects.get(username="grace")
    assert (grace.role, grace.station, grace.phone, grace.get_full_name()) == (
        "crew",
        world.north,
        "+8613800000007",
        "王 小红",
    )
    assert grace.check_password("Pw-grace-120-long") and not grace.is_staff
    (event,) = saved_events()
    assert event.actor == world.erin and event.data["created"] and "password" in event.data["changed"]
    assert admin_edits()[-1].data["changes"]["password"] == "changed"


@pytest.mark.parametrize(
    "password,message",
    [("short", "too short"), ("password123", "too common"), ("12345678901234", "entirely numeric")],
)
def test_a_weak_password_is_refused_by_the_sites_rules(admin_client, world, password, message):
    add = "/admin/dispatch/user/add/"
    data = admin_form(admin_client, add, "user_form")
    data.update(
        username="henry", usable_password="true", password1=password, password2=password, role="dispatcher"
    )
    response = save(admin_client, add, data)
    assert response.status_code == 200 and message in response.content.decode()
    assert not User.objects.filter(username="henry").exists() and not saved_events() and not admin_edits()

    url = f"/admin/dispatch/user/{world.alice.pk}/password/"
    old = User.objects.get(pk=world.alice.pk).password
    response = admin_client.post(
        url, {"usable_password": "true", "password1": password, "password2": password}
    )
    assert response.status_code == 200 and message in response.content.decode()
    assert User.objects.get(pk=world.alice.pk).password == old and not saved_events()


def test_role_place_and_phone_changed_and_the_user_deactivated(admin_client, world):
    url = f"/admin/dispatch/user/{world.alice.pk}/change/"
    data = admin_form(admin_client, url, "user_form")
    data.update(role="hospital", hospital=str(world.county.pk), phone="+8613800000001")
    assert save(admin_client, url, data).status_code == 302
    alice = User.objects.get(pk=world.alice.pk)
    assert (alice.role, alice.hospital, alice.phone) == ("hospital", world.county, "+8613800000001")
    (event,) = saved_events()
    assert set(event.data["changed"]) == {"role", "hospital_id", "phone"} and event.actor == world.erin
    assert admin_edits()[-1].data["changes"]["role"] == ["dispatcher", "hospital"]

    # Staff of no hospital, a phone that is no international number: refused, nothing written.
    for change, message in [({"hospital": ""}, "need their hospital"), ({"phone": "12345"}, "E.164")]:
        response = save(admin_client, url, {**admin_form(admin_client, url, "user_form"), **change})
        assert response.status_code == 200 and message in response.content.decode()
    assert len(saved_events()) == 1 and len(admin_edits()) == 1

    # Deactivated from the list: cannot sign in, the account and its history stay.
    response = admin_client.post(
        "/admin/dispatch/user/", {"action": "deactivate", "_selected_action": [world.alice.pk, world.erin.pk]}
    )
    assert response.status_code == 302
    assert not User.objects.get(pk=world.alice.pk).is_active
    assert User.objects.get(pk=world.erin.pk).is_active  # not oneself
    assert saved_events()[-1].data["changed"] == ["is_active"]
    assert authenticate(RequestFactory().post("/login/"), username="alice", password="pw-alice-120") is None
    admin_client.post("/admin/dispatch/user/", {"action": "activate", "_selected_action": [world.alice.pk]})
    assert User.objects.get(pk=world.alice.pk).is_active


def test_a_password_reset_is_saved_and_audited_and_no_page_shows_a_hash(admin_client, world):
    page = admin_client.get(f"/admin/dispatch/user/{world.bob.pk}/change/").content.decode()
    stored = User.objects.get(pk=world.bob.pk).password
    algorithm, *_parts, digest = stored.split("$")
    assert digest[:6] not in page and f"{algorithm}$" not in page and "hash" not in page.lower()
    assert f"/admin/dispatch/user/{world.bob.pk}/password/" in page  # a link to set a new one

    url = f"/admin/dispatch/user/{world.bob.pk}/password/"
    form = admin_client.get(url).content.decode()
    assert digest[:6] not in form
    response = admin_client.post(
        url, {"usable_password": "true", "password1": "N3w-pw-for-bob!", "password2": "N3w-pw-for-bob!"}
    )
    assert response.status_code == 302
    bob = User.objects.get(pk=world.bob.pk)
    assert bob.check_password("N3w-pw-for-bob!")
    (event,) = saved_events()
    assert event.data["changed"] == ["password"] and event.actor == world.erin
    (audit,) = admin_edits()
    assert audit.data["changes"] == {"password": "changed"}
    for recorded in (event, audit):
        assert bob.password not in as_text(recorded) and stored not in as_text(recorded)
    assert bob.role == Role.SUPERVISOR  # nothing else changed
