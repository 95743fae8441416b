"""Where patient data may go: a hospital's FHIR endpoint and token URL are https (plain http only
on this machine's loopback), a redirect is never followed with the Bundle or the credentials, and
an endpoint's error page, which may echo the patient's data, is never stored: only its status."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from dispatch.models import Outbox, OutboxStatus
from hospitals.secrets import seal
from tests.support.er_helpers import notified
from tests.support.fhir_endpoint import fhir_endpoint  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)

ECHO = {"resourceType": "OperationOutcome", "issue": [{"diagnostics": "张三 13812345678 胸痛 HR 110"}]}


def the_row() -> Outbox:
    (row,) = Outbox.objects.filter(channel="fhir")
    return row


@pytest.mark.parametrize(
    "field, url, allowed",
    [
        ("fhir_endpoint", "https://fhir.hospital.example/r4", True),
        ("fhir_endpoint", "http://127.0.0.1:8080/fhir", True),
        ("fhir_endpoint", "http://localhost/fhir", True),
        ("fhir_endpoint", "http://fhir.hospital.example/r4", False),
        ("fhir_endpoint", "http://10.1.2.3/fhir", False),
        ("fhir_token_url", "http://auth.hospital.example/token", False),
        ("fhir_token_url", "https://auth.hospital.example/token", True),
    ],
)
def test_the_admin_accepts_only_https_addresses(world, field, url, allowed):
    setattr(world.city, field, url)
    if allowed:
        world.city.full_clean()
    else:
        with pytest.raises(ValidationError) as refused:
            world.city.full_clean()
        assert refused.value.error_dict[field][0].code == "not_https"


def test_an_http_address_stored_past_the_admin_is_never_sent_to(world):
    world.city.fhir_endpoint = "http://fhir.hospital.example/r4"
    world.city.save()  # as an old row, or a raw update, would have it
    notified(world, world.als1, world.city, world.carol)
    call_command("run_outbox", "--once")
    row = the_row()
    assert row.status == OutboxStatus.FAILED and "not https" in row.last_error


def test_a_redirect_is_not_followed_with_the_patients_bundle(world, fhir_endpoint):  # noqa: F811
    world.city.fhir_endpoint = fhir_endpoint.url
    world.city.save()
    elsewhere = fhir_endpoint.url + "/elsewhere"  # the same server records whatever reaches it
    fhir_endpoint.script = [("reply", 307, ECHO, {"Location": elsewhere})]
    notified(world, world.als1, world.city, world.carol)
    call_command("run_outbox", "--once")
    row = the_row()
    assert fhir_endpoint.requests == 1 and fhir_endpoint.bundles == []  # not posted again
    assert row.status == OutboxStatus.FAILED and row.last_error == "HTTP 307: redirected, not followed"


def test_an_error_page_is_kept_as_its_status_only(world, fhir_endpoint):  # noqa: F811
    world.city.fhir_endpoint = fhir_endpoint.url
    world.city.save()
    fhir_endpoint.script = [("reply", 500, ECHO, {})]
    notified(world, world.als1, world.city, world.carol)
    call_command("run_outbox", "--once")
    row = the_row()
    assert row.status == OutboxStatus.PENDING  # retried
    assert row.last_error == "HTTP 500" and "13812345678" not in row.last_error


def test_a_token_url_error_page_is_kept_as_its_status_only(world, fhir_endpoint):  # noqa: F811
    fhir_endpoint.client = ("dispatch120", "the-right-secret")
    world.city.fhir_endpoint = fhir_endpoint.url
    world.city.fhir_token_url = fhir_endpoint.token_url
    world.city.fhir_client_id = "dispatch120"

    world.city.fhir_client_secret = seal("a wrong secret")
    world.city.save()
    notified(world, world.als1, world.city, world.carol)
    call_command("run_outbox", "--once")
    row = the_row()
    assert row.last_error.endswith("token URL answered HTTP 401") and "invalid_client" not in row.last_error
