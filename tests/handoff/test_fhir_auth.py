"""A hospital endpoint that wants a sign-in: the outbox gets an OAuth 2.0 client-credentials
token from the hospital's token URL (HTTP Basic), sends Bundles with it as a Bearer header,
keeps it between deliveries, signs in again when the endpoint refuses it, and keeps retrying
(never fails the notice for good) while the credentials are wrong. The admin form never shows
the secret and keeps it when the field is left blank."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.forms import modelform_factory
from django.utils import timezone

from dispatch.crew.actions import record_vitals
from dispatch.models import Outbox, OutboxStatus
from hospitals.admin import HospitalForm
from hospitals.models import Hospital
from hospitals.secrets import seal, unseal
from tests.support.er_helpers import notified
from tests.support.fhir_endpoint import fhir_endpoint  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def secured(world, fhir_endpoint):  # noqa: F811
    fhir_endpoint.client = ("dispatch120", "s3cret-from-the-hospital")
    city = world.city
    city.fhir_endpoint = fhir_endpoint.url
    city.fhir_token_url = fhir_endpoint.token_url
    city.fhir_client_id, secret = fhir_endpoint.client
    city.fhir_client_secret = seal(secret)  # as the admin stores it
    city.fhir_scope = "system/*.write"
    city.save()
    return world


def rows() -> list[Outbox]:
    return list(Outbox.objects.filter(channel="fhir").order_by("pk"))


def due_now() -> None:
    Outbox.objects.filter(status=OutboxStatus.PENDING).update(next_attempt_at=timezone.now())


def test_bundles_go_with_a_client_credentials_token_kept_between_sends(secured, fhir_endpoint):  # noqa: F811
    world = secured
    notice = notified(world, world.als1, world.city, world.carol)
    call_command("run_outbox", "--once")
    (asked,) = fhir_endpoint.token_requests
    assert asked["grant_type"] == "client_credentials" and asked["scope"] == "system/*.write"
    (token,) = fhir_endpoint.tokens
    assert fhir_endpoint.authorizations == [f"Bearer {token}"] and len(fhir_endpoint.bundles) == 1

    record_vitals(notice.assignment, actor=world.carol, heart_rate=128)
    call_command("run_handoff", "--once")
    call_command("run_outbox", "--once")
    assert len(fhir_endpoint.bundles) == 2 and len(fhir_endpoint.token_requests) == 1  # kept
    assert all(r.status == OutboxStatus.SENT for r in rows())


def test_a_refused_token_is_replaced_on_the_next_attempt(secured, fhir_endpoint):  # noqa: F811
    world = secured
    notice = notified(world, world.als1, world.city, world.carol)
    call_command("run_outbox", "--once")
    fhir_endpoint.tokens.clear()  # the hospital revokes every token it gave
    record_vitals(notice.assignment, actor=world.carol, heart_rate=131)
    call_command("run_handoff", "--once")
    call_command("run_outbox", "--once")
    latest = rows()[-1]
    assert latest.status == OutboxStatus.PENDING and "HTTP 401" in latest.last_error
    due_now()
    call_command("run_outbox", "--once")
    latest.refresh_from_db()
    assert latest.status == OutboxStatus.SENT
    assert len(fhir_endpoint.token_requests) == 2 and len(fhir_endpoint.bundles) == 2


def test_wrong_credentials_keep_the_notice_waiting_until_they_are_fixed(secured, fhir_endpoint):  # noqa: F811
    world = secured
    world.city.fhir_client_secret = seal("an old secret")
    world.city.save()
    started = timezone.now()
    notified(world, world.als1, world.city, world.carol)
    call_command("run_outbox", "--once")
    (row,) = rows()
    assert row.status == OutboxStatus.PENDING and "token URL answered HTTP 401" in row.last_error
    assert row.next_attempt_at - started > timedelta(seconds=4)  # backed off, not failed for good
    assert fhir_endpoint.bundles == [] and fhir_endpoint.requests == 0  # nothing sent unsigned

    world.city.fhir_client_secret = seal(fhir_endpoint.client[1])
    world.city.save()
    due_now()
    call_command("run_outbox", "--once")
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT and len(fhir_endpoint.bundles) == 1


def test_without_a_token_url_no_header_is_sent(world, fhir_endpoint):  # noqa: F811
    world.city.fhir_endpoint = fhir_endpoint.url
    world.city.save()
    notified(world, world.als1, world.city, world.carol)
    call_command("run_outbox", "--once")
    assert fhir_endpoint.authorizations == [""] and fhir_endpoint.token_requests == []


FIELDS = ["name", "fhir_endpoint", "fhir_token_url", "fhir_client_id", "fhir_client_secret", "fhir_scope"]
# The admin's form narrowed to the FHIR fields, as ModelAdmin narrows it to a fieldset.
FhirForm = modelform_factory(Hospital, form=HospitalForm, fields=FIELDS)


def admin_data(hospital, **changes) -> dict:
    return {**{name: getattr(hospital, name) for name in FIELDS}, "fhir_client_secret": "", **changes}


def saved_secret(hospital, **changes) -> str:
    form = FhirForm(admin_data(hospital, **changes), instance=Hospital.objects.get(pk=hospital.pk))
    assert form.is_valid(), form.errors
    return unseal(form.save().fhir_client_secret)


def test_the_admin_form_never_shows_the_secret_and_keeps_it_when_blank(secured):
    city = secured.city
    assert "s3cret-from-the-hospital" not in FhirForm(instance=city).as_p()
    assert saved_secret(city) == "s3cret-from-the-hospital"  # left blank: kept
    assert saved_secret(city, fhir_client_secret="new") == "new"
    assert saved_secret(city) == "new"
    assert saved_secret(city, clear_fhir_client_secret="on") == ""


def test_the_admin_page_shows_the_fields_but_not_the_secret(secured):
    from django.test import Client

    from dispatch.models import User

    client = Client()
    client.force_login(User.objects.create_superuser("root", password="pw-root-120"))
    page = client.get(f"/admin/hospitals/hospital/{secured.city.pk}/change/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert "FHIR token URL" in html and "Leave blank to keep the stored secret." in html
    assert "s3cret-from-the-hospital" not in html


def test_the_secret_is_stored_only_sealed(secured):
    """A copy of the database alone does not hand out the hospital's credentials."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT fhir_client_secret FROM hospitals_hospital WHERE id = %s", [secured.city.pk])
        (stored,) = cursor.fetchone()
    assert stored.startswith("sealed:v1:") and "s3cret" not in stored
    assert unseal(stored) == "s3cret-from-the-hospital"
