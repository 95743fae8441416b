"""The admin's "delete selected" action: one audit event per object deleted, in the action's
transaction. Django writes the log entries of several objects with bulk_create, which sends no
signal, and runs actions outside a transaction: both are covered."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.gis.geos import Point

from dispatch.models import Place
from tests.support.audit_trail import admin_edits

pytestmark = pytest.mark.django_db
LIST = "/admin/dispatch/place/"


def places(*names: str) -> list[Place]:
    return [Place.objects.create(name=n, kind="landmark", point=Point(119.6, 24.9, srid=4326)) for n in names]


def delete_selected(client, chosen: list[Place], confirm: bool = True):
    data = {"action": "delete_selected", "_selected_action": [str(p.pk) for p in chosen], "index": "0"}
    if confirm:
        data["post"] = "yes"
    return client.post(LIST, data)


def test_deleting_several_places_is_one_event_each(admin_client, world):
    doomed = places("甲楼", "乙楼", "丙楼")
    kept = places("丁楼")
    assert delete_selected(admin_client, doomed).status_code == 302
    assert list(Place.objects.all()) == kept
    events = admin_edits()
    assert sorted(e.data["object"] for e in events) == ["丙楼", "乙楼", "甲楼"]
    assert {(e.data["action"], e.data["model"], e.actor_id) for e in events} == {
        ("deleted", "dispatch.place", world.erin.pk)
    }
    assert sorted(e.data["object_id"] for e in events) == sorted(str(p.pk) for p in doomed)
    assert LogEntry.objects.count() == 3


def test_deleting_one_place_is_one_event_not_two(admin_client, world):
    """One object's entry is saved (with its signal), several are bulk-created: never both."""
    (doomed,) = places("戊楼")
    assert delete_selected(admin_client, [doomed]).status_code == 302
    assert [e.data["object"] for e in admin_edits()] == ["戊楼"]


def test_the_confirmation_page_records_nothing(admin_client, world):
    doomed = places("己楼", "庚楼")
    response = delete_selected(admin_client, doomed, confirm=False)
    assert response.status_code == 200 and "己楼" in response.content.decode()
    assert admin_edits() == [] and Place.objects.count() == 2
    assert delete_selected(admin_client, doomed).status_code == 302
    assert sorted(e.data["object"] for e in admin_edits()) == ["己楼", "庚楼"]


def test_a_delete_that_fails_keeps_the_places_and_records_nothing(admin_client, world, monkeypatch):
    from dispatch.admin import PlaceAdmin

    doomed = places("辛楼", "壬楼")

    def fail(self, request, queryset):
        queryset.delete()
        raise RuntimeError("the database went away")

    monkeypatch.setattr(PlaceAdmin, "delete_queryset", fail)
    admin_client.raise_request_exception = False
    assert delete_selected(admin_client, doomed).status_code == 500
    assert Place.objects.count() == 2
    assert admin_edits() == [] and not LogEntry.objects.exists()
    monkeypatch.undo()
    assert delete_selected(admin_client, doomed).status_code == 302
    assert sorted(e.data["object"] for e in admin_edits()) == ["壬楼", "辛楼"]
