"""The centre's registry: its stations, units and hospitals. Each one created is an event, so
every screen shows it at once."""

from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone

from dispatch.core.actions import ActionError, checked_text
from dispatch.core.event_kinds import EventKind
from dispatch.core.events import record_event
from fleet.models import KIND_CAPABILITIES, Station, Unit, UnitKind
from hospitals.models import Capability, Hospital


@transaction.atomic
def create_station(
    code: str, name: str, location: Point, *, name_en: str = "", district: str = "", address: str = ""
) -> Station:
    station = Station.objects.create(
        code=checked_text(code, "code", 20),
        name=checked_text(name, "name", 120),
        name_en=name_en,
        district=district,
        address=address,
        location=location,
    )
    record_event(EventKind.STATION_CREATED, data={"id": station.pk, "name": station.name})
    return station


@transaction.atomic
def create_unit(
    call_sign: str,
    kind: str,
    *,
    home_station: Station | None = None,
    capabilities: list[str] | None = None,
    position: Point | None = None,
    plate: str = "",
    tracker_id: str | None = None,
) -> Unit:
    if kind not in UnitKind.values:
        raise ActionError(f"Unknown unit kind {kind!r}.", "bad_kind")
    now = timezone.now()
    position = position or (home_station.location if home_station else None)
    unit = Unit.objects.create(
        call_sign=checked_text(call_sign, "call sign", 20),
        kind=kind,
        capabilities=capabilities if capabilities is not None else list(KIND_CAPABILITIES[kind]),
        home_station=home_station,
        plate=plate,
        tracker_id=tracker_id,
        position=position,
        position_at=now if position else None,
    )
    record_event(EventKind.UNIT_CREATED, unit=unit, data={"call_sign": unit.call_sign, "kind": kind})
    return unit


@transaction.atomic
def create_hospital(
    name: str, location: Point, *, capabilities: list[str] | None = None, **fields
) -> Hospital:
    unknown = set(capabilities or []) - set(Capability.values)
    if unknown:
        raise ActionError(f"Unknown capabilities: {', '.join(sorted(unknown))}.", "bad_capability")
    hospital = Hospital.objects.create(
        name=checked_text(name, "name", 120), location=location, capabilities=capabilities or [], **fields
    )
    record_event(
        EventKind.HOSPITAL_CREATED, hospital=hospital, data={"id": hospital.pk, "name": hospital.name}
    )
    return hospital
