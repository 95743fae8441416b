"""Admin for hospitals: the form (the FHIR secret never shown, kept when left blank) and the
layout. Hospitals know nothing of dispatch, so dispatch/admin.py registers the admin in use, whose
saves go through dispatch's registry action (an event each). Diversion and beds are read here and
changed only through the audited actions (the ER board, the API)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from hospitals.models import BedAvailability, Hospital
from hospitals.secrets import seal


def https_by_default(field: models.Field, **kwargs: Any) -> forms.Field | None:
    """An address typed without a scheme is https (a hospital's endpoints are; Django 6's default)."""
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class HospitalForm(forms.ModelForm):
    """The FHIR client secret is never shown; a blank field keeps the stored one."""

    fhir_client_secret = forms.CharField(
        label=_("FHIR client secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave blank to keep the stored secret."),
    )
    clear_fhir_client_secret = forms.BooleanField(label=_("Remove the stored secret"), required=False)

    class Meta:
        model = Hospital
        formfield_callback = https_by_default
        fields = "__all__"  # noqa: DJ007  (the admin form shows every field; ModelAdmin narrows it)

    def clean(self) -> dict[str, Any]:
        super().clean()  # ModelForm's returns cleaned_data, typed optional as an override may not
        data = self.cleaned_data
        if data.get("clear_fhir_client_secret"):
            data["fhir_client_secret"] = ""
        elif data.get("fhir_client_secret"):
            data["fhir_client_secret"] = seal(data["fhir_client_secret"])  # stored only sealed
        elif self.instance.pk:
            data["fhir_client_secret"] = Hospital.objects.get(pk=self.instance.pk).fhir_client_secret
        return data


class BedInline(admin.TabularInline):
    model = BedAvailability
    extra = 0
    readonly_fields = ["category", "available", "updated_at"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Hospital | None = None) -> bool:
        return False


@admin.register(Hospital)
class HospitalAdmin(admin.ModelAdmin):
    form = HospitalForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # the admin's own fields

    def get_fields(
        self, request: HttpRequest, obj: Hospital | None = None
    ) -> list[str | list[str] | tuple[str, ...]]:
        """ "Remove the stored secret" right under the secret, not after every model field."""
        fields = [f for f in super().get_fields(request, obj) if f != "clear_fhir_client_secret"]
        at = fields.index("fhir_client_secret") + 1
        return [*fields[:at], "clear_fhir_client_secret", *fields[at:]]

    list_display = ["name", "level", "phone", "has_board", "diverting"]
    search_fields = ["name", "name_en", "short_name"]
    readonly_fields = ["diverting", "diversion_reason", "status_changed_at"]
    inlines = [BedInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created through dispatch's registry action (dispatch/admin.py adds the form)
