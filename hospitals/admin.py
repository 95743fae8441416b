"""Admin for hospitals: details are editable; diversion and beds are read here and changed
only through the audited actions (the ER board, the API)."""

from django.contrib import admin

from .models import BedAvailability, Hospital


class BedInline(admin.TabularInline):
    model = BedAvailability
    extra = 0
    readonly_fields = ["category", "available", "updated_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Hospital)
class HospitalAdmin(admin.ModelAdmin):
    list_display = ["name", "level", "phone", "has_board", "diverting"]
    search_fields = ["name", "name_en", "short_name"]
    readonly_fields = ["diverting", "diversion_reason", "status_changed_at"]
    inlines = [BedInline]

    def has_add_permission(self, request) -> bool:
        return False  # created by the create_hospital action (commands, API)
