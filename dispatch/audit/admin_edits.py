"""Every change made in the Django admin, written to the event log as one `audit.admin_edit`.

The hook is the admin's own record: each add, change and delete (the change form, the delete
page, the list's inline edits, actions) goes through ModelAdmin.log_addition/log_change/
log_deletions, which write a LogEntry. Its post_save writes the event in the same transaction
(the admin's views run in one). Two gaps are closed here: Django writes the entries of a
several-object delete with bulk_create, which sends no signal, and runs actions outside a
transaction, so the site-wide "delete selected" action is replaced by one that runs Django's in
a transaction and records what bulk_create wrote.

What changed is the difference between the row before the save (read in pre_save, for models
registered in the admin) and after it, so a field the form rewrites (the protocol editor's
question tree, a kept secret) is reported as it was stored, not as the form's raw input said.
Secrets (passwords, keys, tokens) are never written: their value is "changed".
"""

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

from django.apps import apps
from django.contrib import admin
from django.contrib.admin import actions as admin_actions
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.core.signals import request_started
from django.db import models, transaction
from django.db.models.signals import post_save, pre_save
from django.http import HttpRequest
from django.template.response import TemplateResponse

from dispatch.core.event_kinds import EventKind
from dispatch.core.events import record_event
from dispatch.models import User

ACTIONS = {ADDITION: "added", CHANGE: "changed", DELETION: "deleted"}
CHANGED = "changed"  # what an audit event says instead of a secret's value
VALUE_SHOWN = 200  # characters of a value kept in the event
# A field whose value is a secret: a password hash, a client secret, a tracker key, a token.
SECRET = re.compile(r"(^|_)(password|secret|key|token|hash)(_|$)")
SNAPSHOTS_KEPT = 100  # rows read before a save that no log entry followed (a save outside the admin)

local = threading.local()


def is_secret(name: str) -> bool:
    return bool(SECRET.search(name))


def shown(value: Any) -> Any:
    """A value as the event keeps it: JSON's own types, other things as text, long text cut."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = (
        json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, dict | list) else str(value)
    )
    return text if len(text) <= VALUE_SHOWN else text[: VALUE_SHOWN - 1] + "…"


def row_values(model: type[models.Model], pk: Any) -> dict[str, Any] | None:
    """The stored row's concrete fields by name (a foreign key by its id), or None if gone."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    row = model._base_manager.filter(pk=pk).values(*[f.attname for f in fields]).first()
    return None if row is None else {f.name: row[f.attname] for f in fields}


def snapshots() -> OrderedDict:
    if not hasattr(local, "before"):
        local.before = OrderedDict()
    return local.before


def forget_snapshots(sender: Any, **kwargs: Any) -> None:
    """Each request starts with none: a row read for an earlier request is no longer "before"."""
    snapshots().clear()


def remember_before(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    """The row as it was, read just before the admin saves it over."""
    if kwargs.get("raw") or kwargs.get("update_fields") or instance._state.adding or instance.pk is None:
        return
    before = row_values(sender, instance.pk)
    if before is None:
        return
    kept = snapshots()
    kept[(sender._meta.label_lower, str(instance.pk))] = before
    while len(kept) > SNAPSHOTS_KEPT:
        kept.popitem(last=False)


def changes(entry: LogEntry, model: type[models.Model] | None) -> dict[str, Any]:
    """What the entry's change did, field by field: [before, after], or "changed" for a secret."""
    if model is None or entry.action_flag == DELETION:
        return {}
    object_id = str(entry.object_id)
    before = snapshots().pop((model._meta.label_lower, object_id), None)
    after = row_values(model, object_id) or {}
    logged = logged_fields(entry, model)
    if entry.action_flag == ADDITION:
        before = {}
        names = [name for name, value in after.items() if value not in (None, "", False)]
    elif before is not None:
        names = [name for name, value in after.items() if differs(before.get(name), value)]
    else:  # logged without a save of the row (an action's update): the admin's message says
        names = [name for name in logged if name in after]
    # Many-to-many fields are saved after the row: only the admin's message knows them.
    related = [name for name in logged if name not in after]
    found: dict[str, Any] = {
        name: CHANGED if is_secret(name) else [shown((before or {}).get(name)), shown(after.get(name))]
        for name in names
    }
    for name in related:
        found[name] = CHANGED if is_secret(name) else [None, related_now(model, object_id, name)]
    return found


def differs(before: Any, after: Any) -> bool:
    """A real change: not a time the admin's form merely cut to whole seconds (as it shows it)."""
    if isinstance(before, datetime) and isinstance(after, datetime):
        return before.replace(microsecond=0) != after.replace(microsecond=0)
    return before != after


def related_now(model: type[models.Model], object_id: str, name: str) -> str | None:
    """A many-to-many field's objects after the change, as text (a label the form alone has: None)."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    obj = model._base_manager.filter(pk=object_id).first()
    if obj is None or not field.many_to_many:
        return None
    return shown(", ".join(str(o) for o in getattr(obj, name).all()))


def logged_fields(entry: LogEntry, model: type[models.Model]) -> list[str]:
    """The fields the admin's message names, as field names (it holds the form's English labels;
    a label no field has, a form's own field, is kept as it is)."""
    by_label = {}
    for field in model._meta.get_fields():
        if getattr(field, "concrete", False) or field.many_to_many:
            by_label[str(getattr(field, "verbose_name", field.name)).lower()] = field.name
            by_label[field.name.lower()] = field.name
    try:
        message = json.loads(entry.change_message or "[]")
    except ValueError:
        return []
    labels = [
        str(label)
        for part in (message if isinstance(message, list) else [])
        if isinstance(part, dict)
        and isinstance(part.get("changed"), dict)
        and "name" not in part["changed"]  # an inline's row: not a field of this object
        for label in part["changed"].get("fields", [])
    ]
    return [by_label.get(label.lower(), label) for label in labels]


def record_entry(entry: LogEntry) -> None:
    """One audit event for one admin log entry, in the admin's transaction when it has one."""
    content_type = cast(ContentType | None, entry.content_type)  # the stubs leave it generic
    model = content_type.model_class() if content_type else None
    user = cast(User, entry.user)  # the admin's user model is ours
    data = {
        "action": ACTIONS.get(entry.action_flag, str(entry.action_flag)),
        "model": model._meta.label_lower if model else "",
        "object_id": str(entry.object_id or ""),
        "object": entry.object_repr,
        "changes": changes(entry, model),
        "username": user.get_username(),
        "log_entry": entry.pk,
    }
    recorded = getattr(local, "recorded", None)
    if recorded is not None:
        recorded.add(entry.pk)
    with transaction.atomic():  # joins the admin's transaction; its own where the admin has none
        record_event(EventKind.AUDIT_ADMIN_EDIT, actor=user, data=data)


def entry_saved(sender: type[LogEntry], instance: LogEntry, created: bool, **kwargs: Any) -> None:
    if created and not kwargs.get("raw"):
        record_entry(instance)


@contextmanager
def recording_bulk() -> Iterator[set[int]]:
    """The log entries recorded meanwhile (to tell them from those bulk_create wrote silently)."""
    outer = getattr(local, "recorded", None)
    local.recorded = set()
    try:
        yield local.recorded
    finally:
        local.recorded = outer


@admin.action(
    permissions=["delete"],
    description=admin_actions.delete_selected.short_description,  # type: ignore[attr-defined]
)
def delete_selected(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: models.QuerySet
) -> TemplateResponse | None:
    """Django's "delete selected", in one transaction with one audit event per object deleted."""
    model = modeladmin.model
    with transaction.atomic(using=queryset.db), recording_bulk() as recorded:
        newest = LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        response = admin_actions.delete_selected(modeladmin, request, queryset)
        written = (
            LogEntry.objects.filter(
                pk__gt=newest,
                user_id=int(request.user.pk or 0),
                action_flag=DELETION,
                content_type__app_label=model._meta.app_label,
                content_type__model=model._meta.model_name,
            )
            .exclude(pk__in=recorded)
            .select_related("user", "content_type")
            .order_by("pk")
        )
        for entry in written:
            record_entry(entry)
    return response


def connect() -> None:
    """Called once from the app's ready(), after the admin has found every ModelAdmin."""
    post_save.connect(entry_saved, sender=LogEntry, dispatch_uid="dispatch.audit.admin_edit")
    request_started.connect(forget_snapshots, dispatch_uid="dispatch.audit.forget_snapshots")
    for model in apps.get_models():
        if admin.site.is_registered(model):
            pre_save.connect(
                remember_before, sender=model, dispatch_uid=f"dispatch.audit.before.{model._meta.label}"
            )
    admin.site.add_action(delete_selected, "delete_selected")
