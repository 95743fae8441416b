"""Helpers of the audit tests (tests/audit/): admin pages posted back as a browser sends them,
and the audit events they wrote."""

import json

from django.test import Client

from dispatch.models import Event
from tests.support.html_form import form_fields

ADMIN_EDIT = "audit.admin_edit"
# Multiple selects with nothing chosen: a browser sends nothing (form_fields would pick the first).
UNCHOSEN = ("groups", "user_permissions")


def admin_form(client: Client, url: str, form_id: str) -> dict[str, str]:
    """An admin form's fields as shown."""
    response = client.get(url)
    assert response.status_code == 200, url
    data = form_fields(response.content.decode(), form_id)
    for name in UNCHOSEN:
        data.pop(name, None)
    return data


def admin_edits() -> list[Event]:
    return list(Event.objects.filter(kind=ADMIN_EDIT).order_by("seq"))


def only_admin_edit() -> Event:
    events = admin_edits()
    assert len(events) == 1, [e.data for e in events]
    return events[0]


def as_text(event: Event) -> str:
    """Everything the event holds, to look for what must never be in it."""
    return json.dumps(event.data, ensure_ascii=False)


def audit_event(kind: str, *, actor=None, at=None, **data) -> Event:
    """An audit event as dispatch.core.signin or dispatch.audit.admin_edits writes it, at a
    given time (the log stamps "now"; a test's history is older)."""
    from django.db import transaction

    from dispatch.core.events import record_event

    with transaction.atomic():
        event = record_event(kind, actor=actor, data=data)
    if at is not None:
        Event.objects.filter(pk=event.pk).update(at=at)
        event.refresh_from_db()
    return event
