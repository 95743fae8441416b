"""Web Push to the crew's tablets (docs/decisions/0015-crew-alerts.md): a dispatch reaches the
crew through the tablet's service worker even when the page is closed or the tablet asleep.

The tablet subscribes with the centre's VAPID public key and posts its subscription here; the
outbox's "crew_alert" sender (dispatch/calls/crew_alerts.py, which can also fall back to SMS)
calls `send_alert`, which encrypts the alert (RFC 8291) for every subscription of the unit's
crew on shift and posts it to each push service (RFC 8030) with pywebpush, signed with the
VAPID private key (RFC 8292). The only module that imports pywebpush (house style 7).

The words of the notification are made here, in the language the crew member used when the
tablet subscribed: the service worker cannot read Django's JavaScript catalogue, so it holds
none of its own.
"""

import base64
import binascii
import json
import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from dispatch.core.actions import ActionError
from dispatch.models import Assignment, Priority, PushSubscription, User
from fleet.models import CrewShift, Unit

log = logging.getLogger(__name__)

# An alert the push service could not hand over within 5 minutes is dropped by it: by then the
# SMS and the console's escalation have taken over, and a late ring would only confuse.
TTL_S = 300
TIMEOUT_S = 10
GONE = {404, 410}  # the subscription expired or was withdrawn: delete it (RFC 8030 §7.3)


@dataclass
class PushResult:
    """What happened to one alert, subscription by subscription."""

    delivered: int = 0
    gone: int = 0
    refused: list[str] = field(default_factory=list)  # permanent for that subscription
    transient: list[str] = field(default_factory=list)  # the push service may take it later

    @property
    def attempted(self) -> int:
        return self.delivered + self.gone + len(self.refused) + len(self.transient)

    def summary(self) -> str:
        return "; ".join(self.refused + self.transient)


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def configured() -> bool:
    return bool(settings.VAPID_PRIVATE_KEY)


def vapid() -> Vapid:
    return Vapid.from_string(private_key=settings.VAPID_PRIVATE_KEY)


def public_key() -> str:
    """The applicationServerKey the tablet subscribes with: the uncompressed P-256 point,
    base64url (derived from the private key when VAPID_PUBLIC_KEY is not set)."""
    if settings.VAPID_PUBLIC_KEY:
        return settings.VAPID_PUBLIC_KEY
    if not configured():
        return ""
    point = vapid().public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(point)


# --- subscriptions ---------------------------------------------------------------------------


def checked_endpoint(endpoint: str) -> str:
    endpoint = endpoint.strip()
    parts = urlsplit(endpoint)
    allowed = {"https", "http"} if settings.PUSH_ALLOW_HTTP_ENDPOINTS else {"https"}
    if parts.scheme not in allowed or not parts.hostname or parts.username or parts.password:
        raise ActionError(_("The push endpoint must be an https address."), "bad_endpoint", 422)
    return endpoint


def checked_keys(p256dh: str, auth: str) -> tuple[str, str]:
    """The browser's P-256 public key (65 bytes, a point on the curve) and its 16-byte auth
    secret: anything else could never be encrypted to, and is refused now, not at the alert."""
    try:
        point = b64url_decode(p256dh.strip())
        secret = b64url_decode(auth.strip())
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except (ValueError, binascii.Error) as exc:
        raise ActionError(_("The subscription's keys are not valid."), "bad_keys", 422) from exc
    if len(secret) != 16:
        raise ActionError(_("The subscription's keys are not valid."), "bad_keys", 422)
    return b64url(point), b64url(secret)


@transaction.atomic
def subscribe(
    user: User, unit: Unit, endpoint: str, p256dh: str, auth: str, language: str
) -> PushSubscription:
    """Store the tablet's subscription for this crew member and unit (one row per endpoint: a
    tablet signed in again by someone else, or on another unit, is theirs now)."""
    endpoint = checked_endpoint(endpoint)
    p256dh, auth = checked_keys(p256dh, auth)
    now = timezone.now()
    subscription, _created = PushSubscription.objects.update_or_create(
        endpoint=endpoint,
        defaults={
            "p256dh": p256dh,
            "auth": auth,
            "user": user,
            "unit": unit,
            "language": (language or "")[:10],
            "updated_at": now,
            "last_error": "",
        },
        create_defaults={
            "p256dh": p256dh,
            "auth": auth,
            "user": user,
            "unit": unit,
            "language": (language or "")[:10],
            "created_at": now,
            "updated_at": now,
        },
    )
    return subscription


def unsubscribe(user: User, endpoint: str) -> int:
    """Forget the tablet's subscription (only the crew member's own)."""
    deleted, _kinds = PushSubscription.objects.filter(user=user, endpoint=endpoint.strip()).delete()
    return deleted


def crew_subscriptions(unit: Unit) -> QuerySet[PushSubscription]:
    """The subscriptions of the crew on shift with the unit now, made for this unit: a tablet
    left signed in by someone whose shift ended, or subscribed on another unit, is not rung."""
    on_shift = CrewShift.objects.current().filter(unit=unit).values("user")
    return PushSubscription.objects.filter(unit=unit, user__in=on_shift).order_by("pk")


# --- the alert -------------------------------------------------------------------------------


# Paths, not reverse(): the worker sending alerts must not depend on every page's URLconf.
TABLET_PATH = "/tablet/"
ACK_PATH = "/api/crew/assignments/{pk}/acknowledge"  # dispatch.crew.api.acknowledge_job


def job_url(assignment: Assignment) -> str:
    return f"{TABLET_PATH}#assignment-{assignment.pk}"


def alert_payload(assignment: Assignment, language: str = "") -> dict:
    """What the service worker shows: every word translated here, in the crew member's language."""
    incident = assignment.incident
    with translation.override(language or settings.LANGUAGE_CODE):
        priority = Priority(incident.priority).label if incident.priority else _("priority not set")
        lines = [
            incident.chief_complaint or _("Complaint not recorded"),
            incident.address or _("Address not confirmed: ask the control room"),
        ]
        return {
            "type": "crew_alert",
            "assignment": assignment.pk,
            "incident": incident.number,
            "priority": incident.priority,
            "complaint": incident.chief_complaint,
            "address": incident.address,
            "title": _("%(number)s · %(priority)s") % {"number": incident.number, "priority": str(priority)},
            "body": "\n".join(lines),
            "tag": f"assignment-{assignment.pk}",
            "url": job_url(assignment),
            "ack_url": ACK_PATH.format(pk=assignment.pk),
            "words": {
                "acknowledge": _("Acknowledge job"),
                "acknowledged": _("Job acknowledged: the control room sees it."),
                "ack_failed": _("Not acknowledged: open the tablet and acknowledge there."),
            },
            "dispatched_at": assignment.dispatched_at.isoformat(),
        }


def send_alert(assignment: Assignment) -> PushResult:
    """Push the alert to every subscription of the unit's crew on shift. Subscriptions the
    push service says are gone are deleted; the caller decides what the result means."""
    result = PushResult()
    key = vapid()
    for subscription in crew_subscriptions(assignment.unit):
        payload = json.dumps(alert_payload(assignment, subscription.language), ensure_ascii=False)
        info = {
            "endpoint": subscription.endpoint,
            "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        }
        host = urlsplit(subscription.endpoint).hostname or "?"
        try:
            webpush(
                info,
                data=payload,
                vapid_private_key=key,
                vapid_claims={"sub": settings.VAPID_SUBJECT},
                ttl=TTL_S,
                timeout=TIMEOUT_S,
                # high: the push service wakes a sleeping device for it (RFC 8030 §5.3); one topic
                # per assignment so a retry replaces an undelivered copy instead of adding one.
                headers={"Urgency": "high", "Topic": f"assignment{assignment.pk}"[:32]},
            )
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            reason = f"{host}: {status or ''} {exc.message}".strip()[:300]
            if status in GONE:
                subscription.delete()
                result.gone += 1
            elif status is None or status == 429 or status >= 500:
                result.transient.append(reason)
            else:  # 400 malformed, 403 another VAPID key, 413 too large: this one cannot be sent
                PushSubscription.objects.filter(pk=subscription.pk).update(last_error=reason)
                result.refused.append(reason)
        except requests.RequestException as exc:
            result.transient.append(f"{host}: {type(exc).__name__}"[:300])
        else:
            PushSubscription.objects.filter(pk=subscription.pk).update(
                last_success_at=timezone.now(), last_error=""
            )
            result.delivered += 1
    if result.attempted:
        log.info(
            "crew alert %s: pushed %s, gone %s, refused %s, later %s",
            assignment.pk,
            result.delivered,
            result.gone,
            len(result.refused),
            len(result.transient),
        )
    return result
