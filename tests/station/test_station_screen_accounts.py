"""Station screen accounts: an administrator adds one in the user admin with its station (the
form shows the field, and refuses the role without a station); it signs in to its screen."""

import pytest
from django.test import Client

from dispatch.models import Role, User
from tests.support.audit_trail import admin_form

pytestmark = pytest.mark.django_db

ADD = "/admin/dispatch/user/add/"


@pytest.fixture
def admin_client(world) -> Client:
    world.erin.is_superuser = True
    world.erin.save(update_fields=["is_superuser"])
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.erin)
    return client


def screen_form(client: Client, **values: str) -> dict:
    data = admin_form(client, ADD, "user_form")
    data.update(
        username="north-garage",
        usable_password="true",
        password1="Wall-screen-Bq7-2026",
        password2="Wall-screen-Bq7-2026",
        role=Role.STATION,
        **values,
    )
    return data


def test_an_admin_adds_a_station_screen_with_its_station(admin_client, world):
    assert 'name="station"' in admin_client.get(ADD).content.decode()
    data = screen_form(admin_client, station=str(world.north.pk))
    response = admin_client.post(ADD, {**data, "_save": "Save"})
    assert response.status_code == 302, response.content.decode()[-2000:]
    screen = User.objects.get(username="north-garage")
    assert (screen.role, screen.station) == (Role.STATION, world.north)
    client = Client()
    client.force_login(screen)
    assert client.get("/").url == "/station/"


def test_a_station_screen_without_a_station_is_refused(admin_client, world):
    response = admin_client.post(ADD, {**screen_form(admin_client, station=""), "_save": "Save"})
    assert response.status_code == 200 and not User.objects.filter(username="north-garage").exists()
