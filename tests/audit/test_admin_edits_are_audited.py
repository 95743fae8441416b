"""Every change made in the admin is one `audit.admin_edit` event: who, which model, which object,
and what changed field by field, in the same transaction as the change. A password or a secret
is never written: its value is "changed"."""

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.gis.geos import Point
from django.db import transaction
from django.test import RequestFactory

from dispatch.models import Place, TriageProtocol, User
from fleet.models import Unit
from hospitals.models import Hospital
from tests.support.audit_trail import admin_edits, admin_form, as_text, only_admin_edit

pytestmark = pytest.mark.django_db


def save(client, url, data):
    return client.post(url, {**data, "_save": "Save"})


def test_a_role_change_is_one_event_with_who_what_and_the_change(admin_client, world):
    url = f"/admin/dispatch/user/{world.alice.pk}/change/"
    data = admin_form(admin_client, url, "user_form")
    data["role"] = "supervisor"
    assert save(admin_client, url, data).status_code == 302
    event = only_admin_edit()
    assert event.actor == world.erin
    assert event.data["action"] == "changed"
    assert (event.data["model"], event.data["object_id"], event.data["object"]) == (
        "dispatch.user",
        str(world.alice.pk),
        "alice",
    )
    assert event.data["changes"] == {"role": ["dispatcher", "supervisor"]}
    assert event.data["username"] == "erin"
    assert event.data["log_entry"] == LogEntry.objects.get().pk
    # Never sent to the control room's screens: audit events are for administrators.
    assert event.incident_id is None and event.hospital_id is None and event.unit_id is None


def test_a_new_user_and_a_new_password_show_as_changed_never_as_a_hash(admin_client, world):
    add = "/admin/dispatch/user/add/"
    data = admin_form(admin_client, add, "user_form")
    data.update(username="grace", password1="Pw-grace-120-long", password2="Pw-grace-120-long", role="crew")
    data["usable_password"] = "true"
    response = save(admin_client, add, data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    grace = User.objects.get(username="grace")
    added = only_admin_edit()
    assert added.data["action"] == "added" and added.data["object"] == "grace"
    assert added.data["changes"]["password"] == "changed"
    assert added.data["changes"]["role"] == [None, "crew"]

    url = f"/admin/dispatch/user/{grace.pk}/password/"
    response = admin_client.post(url, {"password1": "An0ther-pw-long", "password2": "An0ther-pw-long"})
    assert response.status_code == 302
    changed = admin_edits()[-1]
    assert changed.data["changes"] == {"password": "changed"}
    for event in admin_edits():
        assert User.objects.get(pk=grace.pk).password not in as_text(event)
        assert "pbkdf2" not in as_text(event) and "md5$" not in as_text(event)


def test_a_hospital_edit_names_the_fields_and_hides_the_fhir_secret(admin_client, world):
    url = f"/admin/hospitals/hospital/{world.city.pk}/change/"
    data = admin_form(admin_client, url, "hospital_form")
    data.update(phone="+8659112345678", fhir_client_secret="s3cret-of-the-city-hospital")
    assert save(admin_client, url, data).status_code == 302
    event = only_admin_edit()
    sealed = Hospital.objects.get(pk=world.city.pk).fhir_client_secret
    assert sealed and "s3cret" not in sealed
    assert event.data["model"] == "hospitals.hospital" and event.data["object"] == "市第一人民医院"
    assert event.data["changes"]["phone"][1] == "+8659112345678"
    assert event.data["changes"]["fhir_client_secret"] == "changed"
    assert "s3cret-of-the-city-hospital" not in as_text(event) and sealed not in as_text(event)

    # Saved again with the secret left blank (kept): the secret is not reported as changed.
    data = admin_form(admin_client, url, "hospital_form")
    data["short_name"] = "一院"
    assert save(admin_client, url, data).status_code == 302
    again = admin_edits()[-1]
    assert again.data["changes"] == {"short_name": ["", "一院"]}


def test_a_unit_change_logged_by_the_admin_hides_the_tracker_key(admin_client, world):
    """A unit's form the admin refuses (its kind missing) is recorded as nothing; a change the
    admin does log (an action of a unit admin) is one event."""
    url = f"/admin/fleet/unit/{world.als1.pk}/change/"
    assert admin_client.post(url, {"call_sign": "X-1", "_save": "Save"}).status_code == 200
    assert admin_edits() == [] and Unit.objects.get(pk=world.als1.pk).call_sign == "T-ALS-1"

    request = RequestFactory().post("/admin/fleet/unit/")
    request.user = world.erin
    unit_admin = admin.site.get_model_admin(Unit)
    with transaction.atomic():
        unit = Unit.objects.get(pk=world.als1.pk)
        key = unit.tracker_key
        unit.plate = "闽A·12345"
        unit.tracker_key = "new-key-of-the-tracker-0123456789"
        unit.save()
        unit_admin.log_change(request, unit, [{"changed": {"fields": ["licence plate", "tracker key"]}}])
    event = only_admin_edit()
    assert (event.data["model"], event.data["object"]) == ("fleet.unit", "T-ALS-1")
    assert event.data["changes"] == {"plate": ["", "闽A·12345"], "tracker_key": "changed"}
    assert key not in as_text(event) and "new-key-of-the-tracker" not in as_text(event)


def test_a_protocol_changed_in_the_editor_is_one_event_naming_the_questions(
    admin_client, world, triage_defaults
):
    protocol = TriageProtocol.objects.get(code="chest-pain")
    url = f"/admin/dispatch/triageprotocol/{protocol.pk}/change/"
    data = admin_form(admin_client, url, "triageprotocol_form")
    question = next(k for k, v in data.items() if k.endswith("-id") and v == "shock").removesuffix("-id")
    data[f"{question}-text"] = "患者有休克表现吗？（已改）"  # in the editor's rows; the JSON box is stale
    data["name_en"] = "Chest pain (edited)"
    response = save(admin_client, url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert "（已改）" in str(TriageProtocol.objects.get(pk=protocol.pk).questions)
    event = only_admin_edit()
    assert event.data["model"] == "dispatch.triageprotocol" and event.data["object_id"] == str(protocol.pk)
    assert set(event.data["changes"]) == {"questions", "name_en"}
    assert event.data["changes"]["name_en"] == ["Chest pain", "Chest pain (edited)"]


def test_a_place_added_changed_and_deleted_is_an_event_each(admin_client, world):
    add = "/admin/dispatch/place/add/"
    data = admin_form(admin_client, add, "place_form")
    data.update(name="明湾市图书馆", name_en="Library", kind="landmark", point="POINT (119.6 24.9)")
    response = save(admin_client, add, data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    place = Place.objects.get(name="明湾市图书馆")
    added = only_admin_edit()
    assert added.data["action"] == "added" and added.data["object"] == "明湾市图书馆"
    assert added.data["changes"]["name"] == [None, "明湾市图书馆"]

    url = f"/admin/dispatch/place/{place.pk}/change/"
    data = admin_form(admin_client, url, "place_form")
    data["name"] = "明湾图书馆"
    assert save(admin_client, url, data).status_code == 302
    changed = admin_edits()[-1]
    # The search keys the admin derives from the name changed too: the stored row says so.
    assert changed.data["changes"]["name"] == ["明湾市图书馆", "明湾图书馆"]
    assert "pinyin" in changed.data["changes"]

    response = admin_client.post(f"/admin/dispatch/place/{place.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    deleted = admin_edits()[-1]
    assert (deleted.data["action"], deleted.data["object"], deleted.data["changes"]) == (
        "deleted",
        "明湾图书馆",
        {},
    )
    assert len(admin_edits()) == 3 == LogEntry.objects.count()


def test_the_event_is_in_the_changes_transaction(admin_client, world, monkeypatch):
    """A save that fails after the admin logged it leaves neither the change nor its event."""
    from dispatch.admin import PlaceAdmin

    place = Place.objects.create(name="旧名", kind="landmark", point=Point(119.6, 24.9, srid=4326))
    url = f"/admin/dispatch/place/{place.pk}/change/"
    data = admin_form(admin_client, url, "place_form")
    data["name"] = "新名"

    def fail_after_logging(self, request, obj, message):
        admin.ModelAdmin.log_change(self, request, obj, message)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(PlaceAdmin, "log_change", fail_after_logging)
    admin_client.raise_request_exception = False
    assert save(admin_client, url, data).status_code == 500
    assert Place.objects.get(pk=place.pk).name == "旧名"
    assert admin_edits() == [] and not LogEntry.objects.exists()
    monkeypatch.undo()
    assert save(admin_client, url, data).status_code == 302
    assert [e.data["changes"]["name"] for e in admin_edits()] == [["旧名", "新名"]]
