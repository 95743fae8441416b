"""The audit tests' administrator: erin, made a superuser so every admin page is hers to use."""

import pytest
from django.test import Client


@pytest.fixture
def admin_client(world) -> Client:
    world.erin.is_superuser = True
    world.erin.save(update_fields=["is_superuser"])
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.erin)
    return client
