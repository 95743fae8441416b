"""The outbox's "fhir" channel (dispatch.core.outbox): build the notice's Bundle as it stands now,
validate it, POST it to the hospital's endpoint, and keep every attempt.

Each send and update of a notice queues a row carrying its revision. The Bundle is built when
the row is sent, from the current record, so a row that waited out an endpoint outage still
carries the latest readings; a row whose revision has been overtaken by a newer queued one is
marked sent as superseded rather than sending the same data twice.
"""

import time

from django.utils import timezone
from pydantic import ValidationError

from dispatch.core.outbox import DeliveryError, register
from dispatch.handoff.reads import notice_row_by_id
from dispatch.models import FhirDeliveryAttempt, Outbox, PreArrivalNotice
from hospitals import fhir_auth
from hospitals.fhir import FhirError, build_bundle, post_bundle, validated, withdrawal_bundle
from hospitals.models import Hospital


def deliver_fhir(row: Outbox) -> str:
    """Send one outbox row; returns the endpoint's reference, raises DeliveryError on failure."""
    notice = PreArrivalNotice.objects.select_related("hospital").filter(pk=row.payload.get("notice")).first()
    if notice is None:
        raise DeliveryError("The notice of this delivery no longer exists.", permanent=True)
    revision = row.payload.get("revision", notice.revision)
    if superseded(notice, row, revision):
        return f"superseded (revision {notice.revision}, {notice.hospital.name})"
    hospital = recipient(row, notice)
    try:
        bundle = validated(bundle_for(row, notice, hospital))
    except ValidationError as exc:  # our own Bundle is wrong: retrying cannot help
        attempt(row, notice, revision, ok=False, error=f"invalid Bundle: {exc}"[:2000])
        raise DeliveryError(f"invalid FHIR Bundle: {exc.error_count()} errors", permanent=True) from exc
    started = time.monotonic()
    try:
        delivered = post_bundle(row.recipient, bundle, headers=fhir_auth.headers_for(hospital))
    except FhirError as exc:
        if exc.status == 401:
            fhir_auth.forget(hospital)  # the next attempt signs in again
        ms = int((time.monotonic() - started) * 1000)
        attempt(row, notice, revision, ok=False, error=str(exc), status=exc.status, ms=ms)
        raise DeliveryError(str(exc), permanent=exc.permanent) from exc
    attempt(row, notice, revision, ok=True, status=delivered.status, ms=delivered.duration_ms)
    return delivered.reference


def recipient(row: Outbox, notice: PreArrivalNotice) -> Hospital | None:
    """The hospital the row goes to: the notice's own, or the one it was withdrawn from."""
    if row.payload.get("withdrawn"):
        return Hospital.objects.filter(fhir_endpoint=row.recipient).first()
    return notice.hospital  # superseded() has checked that its endpoint is the row's


def bundle_for(row: Outbox, notice: PreArrivalNotice, hospital: Hospital | None) -> dict:
    """The notice as it stands now; for the hospital it was withdrawn from, the cancellation."""
    now = timezone.now().isoformat()
    if row.payload.get("withdrawn"):
        return withdrawal_bundle(notice_row_by_id(notice.pk), hospital.name if hospital else "", now)
    return build_bundle(notice_row_by_id(notice.pk), notice.hospital.name, now)  # recipient() is it


def superseded(notice: PreArrivalNotice, row: Outbox, revision: int) -> bool:
    """A newer revision of the same notice is queued for the same endpoint: it will carry
    everything this one would (a withdrawal is never skipped)."""
    if row.payload.get("withdrawn"):
        return False
    if row.recipient != notice.hospital.fhir_endpoint:
        return True  # the patient goes elsewhere now; that hospital was sent the cancellation
    newer = Outbox.objects.filter(
        channel="fhir", recipient=row.recipient, payload__notice=notice.pk, payload__revision__gt=revision
    ).exclude(status="failed")
    return newer.exists()


def attempt(
    row: Outbox,
    notice: PreArrivalNotice,
    revision: int,
    *,
    ok: bool,
    error: str = "",
    status=None,
    ms: int = 0,
) -> None:
    FhirDeliveryAttempt.objects.create(
        outbox=row,
        notice=notice,
        revision=revision,
        url=row.recipient[:300],
        duration_ms=ms,
        http_status=status,
        ok=ok,
        error=error[:2000],
    )


register("fhir", deliver_fhir)
