"""Admin for fleet reference data. Units and stations are created through the named actions
(management commands, the API); here they are read, so status and position never change
behind the actions' backs."""

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from fleet.models import CrewShift, PositionReport, RejectedFix, RoadNetwork, Station, Unit


class ViewOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Station)
class StationAdmin(ViewOnlyAdmin):
    list_display = ["code", "name", "name_en", "district"]


@admin.register(Unit)
class UnitAdmin(ViewOnlyAdmin):
    list_display = ["call_sign", "kind", "status", "home_station", "position_at", "tracker_id"]
    list_filter = ["kind", "status", "home_station"]
    search_fields = ["call_sign", "plate", "tracker_id"]


@admin.register(CrewShift)
class CrewShiftAdmin(ViewOnlyAdmin):
    list_display = ["user", "unit", "role", "started_at", "ended_at"]


@admin.register(PositionReport)
class PositionReportAdmin(ViewOnlyAdmin):
    list_display = ["unit", "at", "received_at", "source", "speed_kmh"]
    list_filter = ["source"]


@admin.register(RejectedFix)
class RejectedFixAdmin(ViewOnlyAdmin):
    list_display = ["device", "reason", "unit", "count", "last_at", "last_message"]
    list_filter = ["reason"]
    search_fields = ["device"]


@admin.register(RoadNetwork)
class RoadNetworkAdmin(ViewOnlyAdmin):
    list_display = ["name", "is_active", "is_demo", "vertex_count", "arc_count", "imported_at"]
