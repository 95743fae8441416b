"""An admin save the form refuses changes nothing and records nothing: no event, no log entry.
The same form corrected and saved again is then exactly one event."""

import pytest
from django.contrib.admin.models import LogEntry

from dispatch.models import TriageProtocol, User
from tests.support.audit_trail import admin_edits, admin_form

pytestmark = pytest.mark.django_db


def save(client, url, data):
    return client.post(url, {**data, "_save": "Save"})


def nothing_recorded() -> bool:
    return admin_edits() == [] and not LogEntry.objects.exists()


def test_hospital_staff_without_a_hospital_is_refused_and_not_recorded(admin_client, world):
    url = f"/admin/dispatch/user/{world.alice.pk}/change/"
    data = admin_form(admin_client, url, "user_form")
    data.update(role="hospital", hospital="")
    response = save(admin_client, url, data)
    assert response.status_code in (200, 400)  # the form again, with its errors
    assert User.objects.get(pk=world.alice.pk).role == "dispatcher"
    assert nothing_recorded()
    data["hospital"] = str(world.city.pk)
    assert save(admin_client, url, data).status_code == 302
    assert [e.data["changes"]["role"] for e in admin_edits()] == [["dispatcher", "hospital"]]


def test_an_insecure_fhir_address_is_refused_and_not_recorded(admin_client, world):
    url = f"/admin/hospitals/hospital/{world.city.pk}/change/"
    data = admin_form(admin_client, url, "hospital_form")
    data.update(fhir_endpoint="http://fhir.example.org/r4", name="改名医院")
    assert save(admin_client, url, data).status_code == 200
    assert not type(world.city).objects.filter(name="改名医院").exists()
    assert nothing_recorded()
    data["fhir_endpoint"] = "https://fhir.example.org/r4"
    assert save(admin_client, url, data).status_code == 302
    assert [e.data["object"] for e in admin_edits()] == ["改名医院"]


def test_a_protocol_the_editor_refuses_is_not_recorded(admin_client, world, triage_defaults):
    protocol = TriageProtocol.objects.get(code="chest-pain")
    url = f"/admin/dispatch/triageprotocol/{protocol.pk}/change/"
    data = admin_form(admin_client, url, "triageprotocol_form")
    priority = next(k for k, v in data.items() if k.endswith("-priority") and v)
    data[priority] = ""  # an outcome without a priority strands the dispatcher
    data["name"] = "改了名的胸痛"
    assert save(admin_client, url, data).status_code == 200
    assert TriageProtocol.objects.get(pk=protocol.pk).name != "改了名的胸痛"
    assert nothing_recorded()
    data[priority] = "1"
    assert save(admin_client, url, data).status_code == 302
    assert [set(e.data["changes"]) for e in admin_edits()] == [{"name"}]


def test_a_hospital_that_staff_still_belong_to_cannot_be_deleted_and_nothing_is_recorded(admin_client, world):
    response = admin_client.post(f"/admin/hospitals/hospital/{world.city.pk}/delete/", {"post": "yes"})
    assert response.status_code in (200, 403)
    assert type(world.city).objects.filter(pk=world.city.pk).exists()
    assert nothing_recorded()
    # Once nobody belongs to it (nor any of the world's records), it goes, and that is recorded.
    county = world.county
    User.objects.filter(hospital=county).delete()
    response = admin_client.post(f"/admin/hospitals/hospital/{county.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302, response.content.decode()[-1500:]
    assert [(e.data["action"], e.data["object"]) for e in admin_edits()] == [("deleted", "县人民医院")]
