"""Admin: the centre's registry (stations, units, hospitals, users), the gazetteer and reference
data are edited here; live records (incidents, assignments, events, outbox) are read-only, since
they change only through named actions.

Every registry save goes through dispatch.registry's actions (save_station, save_unit,
save_hospital, save_user: one transaction, one event, so every console sees the change at once),
run when the form's own checks pass: a refusal is the form's error and nothing is written. A
unit goes out of and back into service through dispatch.units' actions, from buttons on its
page. Each save is also one audit event (dispatch/audit/admin_edits.py), in the same transaction.
"""

import contextvars
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UsernameField
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from dispatch.audit.admin_edits import remember_before
from dispatch.core.actions import ActionError
from dispatch.models import Assignment, Call, District, Event, Incident, Outbox, Place, Role, User
from dispatch.registry.actions import (
    FieldError,
    Saved,
    put_hospital,
    put_standby_point,
    put_station,
    put_unit,
    put_user,
)
from dispatch.units.actions import return_to_service, take_out_of_service
from fleet.admin import StationAdmin, UnitAdmin, tracker_urls
from fleet.models import FREE_STATUSES, StandbyPoint, Station, Unit, UnitCapability, UnitStatus
from hospitals.admin import HospitalAdmin, HospitalForm
from hospitals.models import Capability, Hospital

# Who is saving, for the password page (Django builds that form itself, without the request).
ACTOR: contextvars.ContextVar[User | None] = contextvars.ContextVar("admin_actor", default=None)


class ThroughAction:
    """A form that saves through a registry action once its own checks pass (in _post_clean, the
    last step of validation): the action's refusal becomes the form's error, and its writes are
    rolled back to a savepoint, so a refused form writes nothing. `save_through` returns what the
    action saved; `actor` is the admin who saves."""

    actor: User | None = None
    saved: Saved | None = None

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # a form's: this class is mixed into forms
        form: Any = self
        if form.errors:
            return
        instance = getattr(form, "instance", None) or getattr(form, "user", None)
        if instance is not None and instance.pk is not None:
            remember_before(type(instance), instance)  # the row before: the audit event's "before"
        try:
            with transaction.atomic():
                self.saved = self.save_through()
        except FieldError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        except ActionError as exc:
            form.add_error(None, exc.message)
        else:
            if hasattr(form, "instance"):
                form.instance = self.saved.obj

    def save_through(self) -> Saved:
        raise NotImplementedError


class LocatedForm(ThroughAction, forms.ModelForm):
    """A record with a location, typed as longitude and latitude (WGS-84, as a GPS shows them)."""

    longitude = forms.FloatField(label=_("longitude (WGS-84)"), min_value=-180, max_value=180)
    latitude = forms.FloatField(label=_("latitude (WGS-84)"), min_value=-90, max_value=90)
    located_field = "location"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        point = getattr(self.instance, self.located_field, None)
        if point is not None:
            self.initial.setdefault("longitude", round(point.x, 7))
            self.initial.setdefault("latitude", round(point.y, 7))

    def location(self) -> Point:
        return Point(self.cleaned_data["longitude"], self.cleaned_data["latitude"], srid=4326)


class CapabilitiesField(forms.CharField):
    """A list of capability codes typed with commas (or spaces); each must be one of `known`."""

    def __init__(self, known: list[tuple[str, str]], **kwargs: Any) -> None:
        self.known = known
        listed = ", ".join(f"{value} ({label})" for value, label in known)
        kwargs.setdefault("help_text", _("Codes separated by commas: %(known)s") % {"known": listed})
        kwargs.setdefault("widget", forms.TextInput(attrs={"class": "vURLField"}))  # room for a few codes
        super().__init__(required=False, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list | tuple) else value

    def clean(self, value: Any) -> list[str]:
        text = super().clean(value)
        found = [part for part in text.replace("，", ",").replace(",", " ").split() if part]
        codes = [code for code, _label in self.known]
        unknown = [part for part in found if part not in codes]
        if unknown:
            raise forms.ValidationError(
                _("Unknown capabilities: %(values)s. Known: %(known)s.")
                % {"values": ", ".join(unknown), "known": ", ".join(codes)}
            )
        return list(dict.fromkeys(found))


class ActionAdmin(admin.ModelAdmin):
    """Saved by the form's action: the admin's own save does nothing more."""

    save_as = False

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)  # a new class on each call
        setattr(form, "actor", request.user)  # noqa: B010  (a class attribute of this request's form)
        return form

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Saved already, through the registry's action (ThroughAction)."""

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # stations, units and users are referenced by every record of the past


# ---------------------------------------------------------------------------------------------
# stations


class StationForm(LocatedForm):
    class Meta:
        model = Station
        fields = ["code", "name", "name_en", "district", "address"]

    def save_through(self) -> Saved:
        data = self.cleaned_data
        return put_station(
            self.instance.code if self.instance.pk else data["code"],
            name=data["name"],
            name_en=data["name_en"],
            district=data["district"],
            address=data["address"],
            location=self.location(),
            actor=self.actor,
        )


admin.site.unregister(Station)


@admin.register(Station)
class RegistryStationAdmin(ActionAdmin, StationAdmin):
    form = StationForm
    fields = ["code", "name", "name_en", "district", "address", "longitude", "latitude"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return admin.ModelAdmin.has_add_permission(self, request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return admin.ModelAdmin.has_change_permission(self, request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["code"] if obj is not None else []  # the key: a new code would be a new station


# ---------------------------------------------------------------------------------------------
# standby points (where move-ups may send a unit besides the stations)


class StandbyPointForm(LocatedForm):
    class Meta:
        model = StandbyPoint
        fields = ["code", "name", "name_en", "district", "address", "capacity", "active"]

    def save_through(self) -> Saved:
        data = self.cleaned_data
        return put_standby_point(
            self.instance.code if self.instance.pk else data["code"],
            name=data["name"],
            name_en=data["name_en"],
            district=data["district"],
            address=data["address"],
            capacity=data["capacity"],
            active=data["active"],
            location=self.location(),
            actor=self.actor,
        )


@admin.register(StandbyPoint)
class RegistryStandbyPointAdmin(ActionAdmin):
    form = StandbyPointForm
    fields = ["code", "name", "name_en", "district", "address", "longitude", "latitude", "capacity", "active"]
    list_display = ["code", "name", "name_en", "district", "capacity", "active"]
    search_fields = ["code", "name", "name_en", "address"]
    list_filter = ["active", "district"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["code"] if obj is not None else []  # the key: a new code would be a new point


# ---------------------------------------------------------------------------------------------
# units


class UnitForm(ThroughAction, forms.ModelForm):
    capabilities = CapabilitiesField(
        [(str(value), str(label)) for value, label in UnitCapability.choices], label=_("capabilities")
    )

    class Meta:
        model = Unit
        fields = ["call_sign", "kind", "home_station", "capabilities", "phone", "plate", "tracker_id"]
        labels = {"home_station": _("home station")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        known = ", ".join(f"{v} ({label})" for v, label in UnitCapability.choices)
        self.fields["capabilities"].help_text = _(
            "Codes separated by commas; empty: what its kind carries. Known: %(known)s"
        ) % {"known": known}
        self.fields["tracker_id"].help_text = _(
            "The tracker's IMEI or device id, to bind it to this unit (empty: none). It proves "
            "nothing alone: the tracker sends the unit's tracker key."
        )

    def save_through(self) -> Saved:
        data = self.cleaned_data
        return put_unit(
            self.instance.call_sign if self.instance.pk else data["call_sign"],
            kind=data["kind"],
            home_station=data["home_station"],
            capabilities=data["capabilities"] or None,
            phone=data["phone"],
            plate=data["plate"],
            tracker_id=data["tracker_id"] or None,
            actor=self.actor,
        )


class OutOfServiceForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=120)
    expected_back_at = forms.DateTimeField(
        label=_("expected back in service"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"],
        help_text=_("When it should be back, if known (the centre's time)."),
    )


admin.site.unregister(Unit)


@admin.register(Unit)
class RegistryUnitAdmin(ActionAdmin, UnitAdmin):
    form = UnitForm
    change_form_template = "admin/fleet/unit/change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return admin.ModelAdmin.has_add_permission(self, request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return admin.ModelAdmin.has_change_permission(self, request, obj)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        unit = ["call_sign", "kind", "home_station", "capabilities"]
        sets: list[tuple[Any, dict[str, Any]]] = [
            (None, {"fields": unit}),
            (_("Vehicle and tracker"), {"fields": ["phone", "plate", "tracker_id"]}),
        ]
        if obj is not None:
            state = ["status", "out_of_service_reason", "expected_back_at", "position_at"]
            sets += [(_("Status"), {"fields": state}), (_("Tracker set-up"), {"fields": ["tracker_setup"]})]
        return sets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        shown = [*UnitAdmin.readonly_fields]
        return ["call_sign", *shown] if obj is not None else shown

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/out-of-service/",
                view(self.out_of_service_view),
                name="fleet_unit_out_of_service",
            ),
            path(
                "<path:object_id>/return-to-service/",
                view(self.return_to_service_view),
                name="fleet_unit_return_to_service",
            ),
            path("<path:object_id>/tracker-key/", view(self.tracker_key_view), name="fleet_unit_tracker_key"),
            *super().get_urls(),
        ]

    def unit_to_change(self, request: HttpRequest, object_id: str) -> Unit:
        unit = self.get_object(request, object_id)
        if unit is None:
            raise PermissionDenied  # no such unit, or none this user may see
        if not self.has_change_permission(request, unit):
            raise PermissionDenied
        return unit

    def change_page(self, unit: Unit) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:fleet_unit_change", args=[unit.pk]))

    def out_of_service_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Take the unit out of service with a reason and, if known, when it is expected back
        (dispatch.units.take_out_of_service: the console's board shows both at once)."""
        unit = self.unit_to_change(request, object_id)
        form = OutOfServiceForm(request.POST or None, initial={"reason": unit.out_of_service_reason})
        if request.method == "POST" and form.is_valid():
            back = form.cleaned_data["expected_back_at"]
            try:
                with transaction.atomic():
                    take_out_of_service(
                        unit, form.cleaned_data["reason"], back, actor=cast(User, request.user)
                    )
                    self.log_change(
                        request, unit, [{"changed": {"fields": ["status", "out of service because"]}}]
                    )
            except ActionError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, gettext("%(unit)s is out of service.") % {"unit": unit.call_sign})
                return self.change_page(unit)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": unit,
            "form": form,
            "title": gettext("Take %(unit)s out of service") % {"unit": unit.call_sign},
            "on_a_job": unit.status not in (*FREE_STATUSES, UnitStatus.OUT_OF_SERVICE),
        }
        return TemplateResponse(request, "admin/fleet/unit/out_of_service.html", context)

    def return_to_service_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        unit = self.unit_to_change(request, object_id)
        if request.method != "POST":
            return self.change_page(unit)
        try:
            with transaction.atomic():
                return_to_service(unit, actor=cast(User, request.user))
                self.log_change(request, unit, [{"changed": {"fields": ["status"]}}])
        except ActionError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, gettext("%(unit)s is back in service.") % {"unit": unit.call_sign})
        return self.change_page(unit)

    def tracker_key_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """A new tracker key (the old one stops at once), shown with the addresses to set up the
        tracker with, on a page of its own."""
        unit = self.unit_to_change(request, object_id)
        if request.method != "POST":
            return self.change_page(unit)
        with transaction.atomic():
            key = unit.rotate_tracker_key()
            self.log_change(request, unit, [{"changed": {"fields": ["tracker key"]}}])
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": unit,
            "title": gettext("New tracker key for %(unit)s") % {"unit": unit.call_sign},
            "key": key,
            "urls": tracker_urls(key),
        }
        response = TemplateResponse(request, "admin/fleet/unit/tracker_key.html", context)
        response["Cache-Control"] = "no-store"  # the key is a secret: never kept by the browser
        return response


# ---------------------------------------------------------------------------------------------
# hospitals


class RegistryHospitalForm(LocatedForm, HospitalForm):
    capabilities = CapabilitiesField(
        [(str(value), str(label)) for value, label in Capability.choices], label=_("capabilities")
    )

    class Meta(HospitalForm.Meta):
        fields = [  # type: ignore[assignment]  # noqa: DJ007  (every field an administrator edits; diversion is the ER's)
            "code",
            "name",
            "name_en",
            "short_name",
            "level",
            "address",
            "phone",
            "capabilities",
            "has_board",
            "sms_number",
            "fhir_endpoint",
            "fhir_token_url",
            "fhir_client_id",
            "fhir_client_secret",
            "fhir_scope",
        ]

    def save_through(self) -> Saved:
        data = self.cleaned_data
        saved = put_hospital(
            self.instance.code if self.instance.pk else data["code"],
            name=data["name"],
            name_en=data["name_en"],
            short_name=data["short_name"],
            level=data["level"],
            location=self.location(),
            address=data["address"],
            phone=data["phone"],
            capabilities=data["capabilities"],
            fhir_endpoint=data["fhir_endpoint"],
            has_board=data["has_board"],
            sms_number=data["sms_number"],
            actor=self.actor,
        )
        # How the centre signs in to the hospital's FHIR server: no screen shows it, so no
        # event; the audit event of this save names it (a secret as "changed").
        sign_in = {
            name: data[name]
            for name in ("fhir_token_url", "fhir_client_id", "fhir_client_secret", "fhir_scope")
        }
        Hospital.objects.filter(pk=saved.obj.pk).update(**sign_in)
        for name, value in sign_in.items():
            setattr(saved.obj, name, value)
        return saved


admin.site.unregister(Hospital)


@admin.register(Hospital)
class RegistryHospitalAdmin(ActionAdmin, HospitalAdmin):
    form = RegistryHospitalForm
    list_display = ["name", "code", "level", "phone", "capabilities", "has_board", "diverting"]
    search_fields = ["name", "name_en", "short_name", "code"]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        main = ["code", "name", "name_en", "short_name", "level", "longitude", "latitude", "address"]
        sets: list[tuple[Any, dict[str, Any]]] = [
            (None, {"fields": main}),
            (_("Emergency department"), {"fields": ["phone", "capabilities", "has_board", "sms_number"]}),
            (
                _("FHIR delivery"),
                {
                    "fields": [
                        "fhir_endpoint",
                        "fhir_token_url",
                        "fhir_client_id",
                        "fhir_client_secret",
                        "clear_fhir_client_secret",
                        "fhir_scope",
                    ]
                },
            ),
        ]
        if obj is not None:
            sets.append((_("Diversion (set by the ER)"), {"fields": HospitalAdmin.readonly_fields}))
        return sets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        shown = list(HospitalAdmin.readonly_fields)
        return ["code", *shown] if obj is not None else shown

    def has_add_permission(self, request: HttpRequest) -> bool:
        return admin.ModelAdmin.has_add_permission(self, request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return admin.ModelAdmin.has_delete_permission(self, request, obj)  # one nobody refers to


# ---------------------------------------------------------------------------------------------
# users


class Placement:
    """Checks shared by the user forms: hospital staff need their hospital, a station screen its
    station; only hospital staff belong to a hospital."""

    def clean_placement(self, data: dict[str, Any]) -> None:
        form: Any = self
        role, hospital, station = data.get("role"), data.get("hospital"), data.get("station")
        if role == Role.HOSPITAL and hospital is None:
            form.add_error("hospital", gettext("Hospital staff need their hospital."))
        if role != Role.HOSPITAL and hospital is not None:
            form.add_error("hospital", gettext("Only hospital staff belong to a hospital."))
        if role == getattr(Role, "STATION", None) and station is None:
            form.add_error("station", gettext("A station screen needs its station."))


class UserForm(Placement, ThroughAction, forms.ModelForm):
    """A user's role, place, phone and whether they may sign in; the password on its own page."""

    full_name = forms.CharField(label=_("full name"), max_length=150, required=False)

    class Meta:
        model = User
        fields = ["role", "hospital", "station", "phone", "is_active"]
        labels = {"station": _("station")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("full_name", self.instance.get_full_name().strip())
        self.fields["is_active"].help_text = _(
            "Uncheck to stop this user signing in (the account and its history stay)."
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        self.clean_placement(self.cleaned_data)
        return self.cleaned_data

    def save_through(self) -> Saved:
        data = self.cleaned_data
        return put_user(
            self.instance.username,
            role=data["role"],
            full_name=data["full_name"],
            station=data["station"],
            hospital=data["hospital"],
            phone=data["phone"],
            is_active=data["is_active"],
            actor=self.actor,
        )


class UserAddForm(Placement, ThroughAction, AdminUserCreationForm):
    full_name = forms.CharField(label=_("full name"), max_length=150, required=False)

    class Meta:
        model = User
        fields = ["username", "role", "hospital", "station", "phone"]
        field_classes = {"username": UsernameField}
        labels = {"station": _("station")}

    def clean(self) -> dict[str, Any]:
        super().clean()
        self.clean_placement(self.cleaned_data)
        return self.cleaned_data

    def save_through(self) -> Saved:
        data = self.cleaned_data
        return put_user(
            data["username"],
            role=data["role"],
            full_name=data["full_name"],
            station=data["station"],
            hospital=data["hospital"],
            phone=data["phone"],
            password=data.get("password1") if data.get("set_usable_password") else None,
            actor=self.actor,
        )

    def save(self, commit: bool = True) -> Any:
        setattr(self, "save_m2m", lambda: None)  # noqa: B010  (what the admin calls next: nothing to save)
        return self.instance  # saved by put_user, with its password


class PasswordResetForm(AdminPasswordChangeForm):
    """Django's password page (its validators), the new password saved by save_user."""

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors or not data.get("set_usable_password"):
            return data
        user: User = self.user
        remember_before(User, user)
        try:
            with transaction.atomic():
                self.user = put_user(
                    user.username,
                    role=user.role,
                    full_name=user.get_full_name().strip(),
                    station=user.station,
                    hospital=user.hospital,
                    phone=user.phone,
                    is_active=user.is_active,
                    password=data["password1"],
                    actor=ACTOR.get(),
                ).obj
        except ActionError as exc:
            self.add_error(None, exc.message)
        return data

    def save(self, commit: bool = True) -> Any:
        if self.cleaned_data.get("set_usable_password"):
            return self.user  # saved in clean(), through put_user
        return super().save(commit)  # no password sign-in at all: Django's own


@admin.register(User)
class DispatchUserAdmin(ActionAdmin, UserAdmin):
    form = UserForm
    add_form = UserAddForm
    change_password_form = PasswordResetForm
    list_display = [
        "username",
        "first_name",
        "role",
        "hospital",
        "station",
        "phone",
        "is_active",
        "last_login",
    ]
    list_filter = ["role", "is_active", "hospital", "station"]
    search_fields = ["username", "first_name", "last_name", "phone"]
    readonly_fields = ["username", "password_reset", "last_login", "date_joined"]
    actions = ["deactivate", "activate"]
    # A station screen (role "station") needs its station; hospital staff their hospital.
    fieldsets = [
        (None, {"fields": ["username", "full_name", "password_reset"]}),
        (_("Role in the centre"), {"fields": ["role", "hospital", "station", "phone", "is_active"]}),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"fields": ["username", "full_name", "usable_password", "password1", "password2"]}),
        (_("Role in the centre"), {"fields": ["role", "hospital", "station", "phone"]}),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.readonly_fields if obj is not None else []

    @admin.display(description=_("password"))
    def password_reset(self, user: User) -> SafeString:
        """A link to set a new password; never the stored hash, not even in part."""
        url = reverse("admin:auth_user_password_change", args=[user.pk])
        state = (
            gettext("Can sign in with a password.")
            if user.has_usable_password()
            else gettext("No password set.")
        )
        return format_html('{} <a class="button" href="{}">{}</a>', state, url, gettext("Reset password"))

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        # Django's password page runs outside a transaction: the new password, its event and
        # its audit event (dispatch/audit/admin_edits.py) are written together or not at all.
        token = ACTOR.set(request.user)  # type: ignore[arg-type]
        try:
            with transaction.atomic():
                return super().user_change_password(request, id, form_url)
        finally:
            ACTOR.reset(token)

    def set_active(self, request: HttpRequest, queryset: QuerySet[User], active: bool) -> None:
        done = []
        for user in queryset.select_related("station", "hospital"):
            if user.is_active == active:
                continue
            if user.pk == request.user.pk and not active:
                self.message_user(request, gettext("You cannot deactivate yourself."), messages.ERROR)
                continue
            with transaction.atomic():
                remember_before(User, user)
                put_user(
                    user.username,
                    role=user.role,
                    full_name=user.get_full_name().strip(),
                    station=user.station,
                    hospital=user.hospital,
                    phone=user.phone,
                    is_active=active,
                    actor=request.user,  # type: ignore[arg-type]
                )
                self.log_change(request, user, [{"changed": {"fields": ["active"]}}])
            done.append(user.username)
        if done:
            self.message_user(request, gettext("Saved: %(users)s.") % {"users": ", ".join(done)})

    @admin.action(
        description=_("Deactivate the chosen users (they can no longer sign in)"), permissions=["change"]
    )
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self.set_active(request, queryset, False)

    @admin.action(description=_("Activate the chosen users"), permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self.set_active(request, queryset, True)


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


@admin.register(District)
class DistrictAdmin(ReadOnlyAdmin):
    """Districts come from files and maps (save_district: import_centre, import_osm)."""

    list_display = ["code", "name", "name_en"]
    search_fields = ["code", "name", "name_en"]
    exclude = ["polygon"]  # thousands of vertices: the map draws it, a text box would not


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
