"""Admin for fleet reference data: how stations and units are listed and laid out. Fleet knows
nothing of dispatch, so these admins only show; dispatch/admin.py registers editable ones in
their place, whose every save goes through dispatch's registry actions (one event each, so every
console sees the change). Status and position never change here: a unit goes out of and back
into service through dispatch's unit actions (buttons on its page), and its tracker reports the
position. Its tracker key, no state a screen shows, is rotated here and written to the admin log."""

from django.conf import settings
from django.contrib import admin
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

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
    list_display = ["code", "name", "name_en", "district", "address"]
    search_fields = ["code", "name", "name_en", "address"]
    list_filter = ["district"]


def tracker_urls(key: str) -> dict[str, str]:
    """Where a tracker sends its fixes, with the key in the URL or as its device identifier."""
    base = f"{settings.PUBLIC_BASE_URL or 'https://<server>'}/api/osmand"
    return {
        "base": base,
        "with_key": f"{base}/{key}",
        "osmand": f"{base}/{key}?lat={{0}}&lon={{1}}&timestamp={{2}}",
    }


@admin.register(Unit)
class UnitAdmin(ViewOnlyAdmin):
    list_display = [
        "call_sign",
        "kind",
        "status",
        "home_station",
        "out_of_service_reason",
        "expected_back_at",
        "position_at",
        "tracker_id",
    ]
    list_filter = ["kind", "status", "home_station"]
    search_fields = ["call_sign", "plate", "tracker_id", "phone"]
    readonly_fields = ["status", "out_of_service_reason", "expected_back_at", "position_at", "tracker_setup"]
    actions = ["rotate_tracker_key"]

    def has_rotate_key_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("fleet.change_unit")

    @admin.action(description=_("Rotate tracker key"), permissions=["rotate_key"])
    def rotate_tracker_key(self, request: HttpRequest, queryset: QuerySet[Unit]) -> None:
        """A new key for each unit chosen: its tracker is refused until set up with the new one."""
        units = list(queryset)
        for unit in units:
            with transaction.atomic():
                unit.rotate_tracker_key()
                self.log_change(request, unit, [{"changed": {"fields": ["tracker key"]}}])  # its verbose name
        message = _("New tracker key for %(units)s: set up their trackers again with the new key.")
        self.message_user(request, message % {"units": ", ".join(unit.call_sign for unit in units)})

    @admin.display(description=_("tracker set-up"))
    def tracker_setup(self, unit: Unit) -> SafeString:
        """The key and the two ways to give it to OsmAnd or Traccar Client."""
        urls = tracker_urls(unit.tracker_key)
        return format_html(
            "<p>{}: <code>{}</code></p><p>{}</p><ol><li>{}: <code>{}</code></li>"
            "<li>{}: <code>{}</code>, {}: <code>{}</code></li></ol><p>{}</p>",
            _("Tracker key"),
            unit.tracker_key,
            _("Set up OsmAnd or Traccar Client in one of two ways:"),
            _("Server URL with the key (device identifier: anything, e.g. the IMEI)"),
            urls["with_key"],
            _("Server URL"),
            urls["base"],
            _("device identifier"),
            unit.tracker_key,
            _("To issue a new key, use “Rotate tracker key” on this page or in the list."),
        )


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
