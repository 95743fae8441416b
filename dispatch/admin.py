"""Admin: users, the gazetteer and reference data are edited here; live records (incidents,
assignments, events, outbox) are read-only, since they change only through named actions."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from dispatch.models import Assignment, Call, Event, Incident, Outbox, Place, User


@admin.register(User)
class DispatchUserAdmin(UserAdmin):
    list_display = ["username", "first_name", "role", "hospital", "is_active"]
    list_filter = ["role", "hospital", "is_active"]
    fieldsets = [
        *(UserAdmin.fieldsets or ()),
        (_("Role in the centre"), {"fields": ["role", "hospital", "phone"]}),
    ]
    add_fieldsets = [
        *UserAdmin.add_fieldsets,
        (_("Role in the centre"), {"fields": ["role", "hospital"]}),
    ]

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        # Django's password page runs outside a transaction: the new password and its audit
        # event (dispatch/audit/admin_edits.py) are written together or not at all.
        with transaction.atomic():
            return super().user_change_password(request, id, form_url)


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "kind", "district", "source"]
    list_filter = ["kind", "district", "source"]
    search_fields = ["name", "name_en", "pinyin", "initials"]
    readonly_fields = ["pinyin", "initials"]

    def save_model(self, request: HttpRequest, obj: Place, form: forms.ModelForm, change: bool) -> None:
        from dispatch.locate.gazetteer import search_keys

        obj.pinyin, obj.initials = search_keys(obj.name)
        super().save_model(request, obj, form, change)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Live records: visible for audit, never edited behind the actions' backs."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ["number", "status", "priority", "chief_complaint", "address", "created_at"]
    list_filter = ["status", "priority"]
    search_fields = ["number", "caller_number", "address"]


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ["incident", "unit", "hospital", "dispatched_at", "recommended_rank", "override_reason"]


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = ["provider", "caller_number", "status", "ringing_at", "answered_at"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "at", "kind", "actor", "incident", "unit", "hospital"]
    list_filter = ["kind"]


@admin.register(Outbox)
class OutboxAdmin(ReadOnlyAdmin):
    list_display = ["channel", "recipient", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["channel", "status"]


import dispatch.triage.admin  # noqa: E402, F401  (triage protocols and caller instructions)
