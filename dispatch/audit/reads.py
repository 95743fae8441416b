"""The audit trail's queries: audit events (sign-ins, admin edits) by user, time, object and kind,
newest first, and each as the row the page and the CSV show."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model, Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dispatch.core.event_kinds import AUDIT_PREFIX, LABELS, EventKind
from dispatch.models import Event

ALL, SIGN_IN, ADMIN = "all", "sign_in", "admin"
GROUPS = {
    ALL: gettext_lazy("All audit events"),
    SIGN_IN: gettext_lazy("Sign-ins"),
    ADMIN: gettext_lazy("Admin edits"),
}
TEXT_MAX = 150  # as long as a user name may be; an object's text is searched for up to this much
FIRST_YEAR, LAST_YEAR = 2000, 2099
ACTION_LABELS = {
    "added": gettext_lazy("Addition"),
    "changed": gettext_lazy("Change"),
    "deleted": gettext_lazy("Deletion"),
}
# What the page calls each model an admin may edit or read (most models give no name of their own
# in Chinese); any other model is called by its verbose name.
MODEL_NAMES = {
    "dispatch.user": gettext_lazy("User account"),
    "dispatch.place": gettext_lazy("Gazetteer place"),
    "dispatch.triageprotocol": gettext_lazy("Triage protocol"),
    "dispatch.callerinstruction": gettext_lazy("Caller instruction"),
    "dispatch.incident": gettext_lazy("Incident record"),
    "dispatch.assignment": gettext_lazy("Unit sent to an incident"),
    "dispatch.call": gettext_lazy("Call record"),
    "dispatch.event": gettext_lazy("Event log entry"),
    "dispatch.outbox": gettext_lazy("Outgoing message"),
    "fleet.unit": gettext_lazy("Unit"),
    "fleet.station": gettext_lazy("Station"),
    "fleet.crewshift": gettext_lazy("Crew shift"),
    "fleet.positionreport": gettext_lazy("Position report"),
    "fleet.rejectedfix": gettext_lazy("Rejected position"),
    "fleet.roadnetwork": gettext_lazy("Road network"),
    "hospitals.hospital": gettext_lazy("Hospital"),
    "otp_totp.totpdevice": gettext_lazy("Two-factor device"),
    "axes.accessattempt": gettext_lazy("Failed sign-in count"),
    "axes.accessfailurelog": gettext_lazy("Failed sign-in record"),
    "axes.accesslog": gettext_lazy("Sign-in record"),
}
CHANGED = "changed"  # dispatch.audit.admin_edits writes it instead of a secret's value
VALUE_SHOWN = 80  # characters of a value a row shows (the event keeps up to 200)


class FilterError(ValueError):
    """A filter the page cannot apply: the message names it and says what it should be."""


@dataclass(frozen=True)
class AuditFilter:
    user: str = ""
    start: datetime | None = None  # from this moment
    end: datetime | None = None  # until before this moment
    model: str = ""  # app_label.model_name
    text: str = ""  # in the object's text, or its id
    group: str = ALL


def audit_kinds(group: str) -> list[str]:
    every = [kind.value for kind in EventKind if kind.value.startswith(AUDIT_PREFIX)]
    if group == ADMIN:
        return [EventKind.AUDIT_ADMIN_EDIT.value]
    if group == SIGN_IN:
        return [kind for kind in every if kind != EventKind.AUDIT_ADMIN_EDIT]
    return every


def audited_models() -> list[tuple[str, str]]:
    """The models edited in the admin, for the object filter's list: (app_label.model, name)."""
    found = [
        (model._meta.label_lower, model_name(model))
        for model in apps.get_models()
        if admin.site.is_registered(model)
    ]
    return sorted(found, key=lambda pair: pair[1])


def filter_from(params: QueryDict) -> AuditFilter:
    """The filter from the page's query string; FilterError, in the user's language, when bad."""

    def text(name: str, label: str) -> str:
        value = params.get(name, "").strip()
        if len(value) > TEXT_MAX:
            raise FilterError(
                _("%(filter)s is too long: at most %(max)s characters, not %(count)s.")
                % {"filter": label, "max": TEXT_MAX, "count": len(value)}
            )
        return value

    start = moment(params.get("from", ""), _("From"), end_of_day=False)
    end = moment(params.get("to", ""), _("To"), end_of_day=True)
    if start and end and end <= start:
        raise FilterError(_("The time range must end after it begins."))
    model = params.get("model", "").strip()
    if model and model not in dict(audited_models()):
        raise FilterError(_("Choose the kind of object from the list."))
    group = params.get("kind", "").strip() or ALL
    if group not in GROUPS:
        raise FilterError(_("Choose the kind of event from the list."))
    return AuditFilter(
        user=text("user", _("User")),
        start=start,
        end=end,
        model=model,
        text=text("object", _("Object")),
        group=group,
    )


def moment(value: str, label: str, *, end_of_day: bool) -> datetime | None:
    """A local time from a datetime-local field (2026-03-01T08:30), or a day (2026-03-01: its
    start, or for "to" the end of it); None when empty."""
    value = value.strip()
    if not value:
        return None
    match = re.fullmatch(
        r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?)?", value
    )
    try:
        if match is None:
            raise ValueError(value)
        year, month, day_, hour, minute, second = match.groups()
        day = date(int(year), int(month), int(day_))
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise ValueError(value)
        if hour is None:
            local = datetime.combine(day + timedelta(days=1) if end_of_day else day, time())
        else:
            local = datetime.combine(day, time(int(hour), int(minute), int(second or 0)))
            local += timedelta(minutes=1) if end_of_day and second is None else timedelta()
    except ValueError:
        raise FilterError(
            _("%(filter)s must be a date and time such as %(example)s, in the years %(first)s to %(last)s.")
            % {"filter": label, "example": "2026-03-01 08:30", "first": FIRST_YEAR, "last": LAST_YEAR}
        ) from None
    return timezone.make_aware(local)


def audit_events(f: AuditFilter) -> QuerySet[Event]:
    """The audit events the filter matches, newest first."""
    events = Event.objects.filter(kind__in=audit_kinds(f.group)).select_related("actor")
    if f.user:
        events = events.filter(Q(actor__username__iexact=f.user) | Q(data__username__iexact=f.user))
    if f.start:
        events = events.filter(at__gte=f.start)
    if f.end:
        events = events.filter(at__lt=f.end)
    if f.model:
        events = events.filter(data__model=f.model)
    if f.text:
        events = events.filter(Q(data__object__icontains=f.text) | Q(data__object_id=f.text))
    return events.order_by("-seq")


def model_name(model: type[Model]) -> str:
    return str(MODEL_NAMES.get(model._meta.label_lower, model._meta.verbose_name))


def field_label(model: type[Model] | None, name: str) -> str:
    if model is None:
        return name
    try:
        return str(getattr(model._meta.get_field(name), "verbose_name", name))
    except FieldDoesNotExist:
        return name


def short(value: Any) -> str:
    """A value as a line of the page shows it: long ones (a question tree) cut to a glance."""
    text = "–" if value in (None, "") else str(value)
    return text if len(text) <= VALUE_SHOWN else text[: VALUE_SHOWN - 1] + "…"


def changes_text(model: type[Model] | None, changes: Any) -> list[str]:
    """ "role: dispatcher → supervisor", "password: changed" (a secret's value is never kept)."""
    if not isinstance(changes, dict):
        return []
    lines = []
    for name, change in changes.items():
        label = field_label(model, str(name))
        if isinstance(change, list) and len(change) == 2:
            before, after = (choice_label(model, str(name), value) for value in change)
            lines.append(f"{label}: {short(before)} → {short(after)}")
        else:
            lines.append(f"{label}: {_('changed') if change == CHANGED else short(change)}")
    return lines


def choice_label(model: type[Model] | None, name: str, value: Any) -> Any:
    """A value of a field with choices as the admin shows it (a role: 调度员, not dispatcher)."""
    try:
        field = model._meta.get_field(name) if model else None
    except FieldDoesNotExist:
        return value
    choices = dict(getattr(field, "flatchoices", None) or [])
    return choices.get(value, value)


def model_of(label: str) -> type[Model] | None:
    try:
        return apps.get_model(label) if label else None
    except (LookupError, ValueError):
        return None


def row(event: Event) -> dict[str, Any]:
    """One event as the page and the CSV show it, in the user's language."""
    data = event.data if isinstance(event.data, dict) else {}
    model = model_of(str(data.get("model", "")))
    details = changes_text(model, data.get("changes"))
    if data.get("locked_out"):
        details.append(_("locked out"))
    return {
        "seq": event.seq,
        "at": timezone.localtime(event.at),
        "kind": event.kind,
        "label": str(LABELS.get(event.kind, event.kind)),  # type: ignore[call-overload]
        "user": event.actor.username if event.actor else str(data.get("username", "")),
        "ip": str(data.get("ip", "")),
        "action": str(ACTION_LABELS.get(str(data.get("action", "")), data.get("action", ""))),
        "action_key": str(data.get("action", "")),
        "model": model_name(model) if model else str(data.get("model", "")),
        "object_id": str(data.get("object_id", "")),
        "object": str(data.get("object", "")),
        "details": details,
    }


def rows(events: QuerySet[Event]) -> Iterator[dict[str, Any]]:
    for event in events.iterator(chunk_size=500):
        yield row(event)
