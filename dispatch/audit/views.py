"""The audit page (/audit/): sign-ins and admin edits, searched by user, time, object and kind,
newest first, 50 a page, and the same rows as CSV. Administrators only."""

import csv
import io
from collections.abc import Iterator

from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dispatch.audit.reads import (
    GROUPS,
    AuditFilter,
    FilterError,
    audit_events,
    audited_models,
    filter_from,
    row,
    rows,
)
from dispatch.core.permissions import role_required
from dispatch.core.signed_in import SignedInRequest
from dispatch.core.spreadsheet import inert
from dispatch.models import Role

PER_PAGE = 50
for_admins = role_required(Role.ADMIN, message=gettext_lazy("The audit trail is for administrators."))


def form_values(request: SignedInRequest) -> dict[str, str]:
    """The filter fields as typed, to show them again (the template escapes them)."""
    return {name: request.GET.get(name, "") for name in ("user", "from", "to", "model", "object", "kind")}


@for_admins
def audit_page(request: SignedInRequest) -> HttpResponse:
    context = {"values": form_values(request), "models": audited_models(), "groups": GROUPS.items()}
    try:
        f = filter_from(request.GET)
    except FilterError as error:
        return render(request, "audit.html", {**context, "error": str(error)}, status=400)
    page = Paginator(audit_events(f), PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit.html",
        {
            **context,
            "page": page,
            "rows": [row(event) for event in page.object_list],
            "query": query.urlencode(),
            "filtered": f != AuditFilter(),
        },
    )


@for_admins
def audit_csv(request: SignedInRequest) -> HttpResponseBase:
    try:
        f = filter_from(request.GET)
    except FilterError as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(csv_lines(f), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="120-audit-{timezone.localtime():%Y%m%d-%H%M}.csv"'
    )
    return response


def csv_lines(f: AuditFilter) -> Iterator[str]:
    """The filtered rows, streamed, with a byte order mark so spreadsheets read the Chinese."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [_("Time"), _("Event"), _("User"), _("IP address"), _("Action"), _("Kind of object"), _("Object id")]
        + [_("Object"), _("What changed")]
    )
    yield "\ufeff" + pop(buffer)
    for r in rows(audit_events(f)):
        cells = [f"{r['at']:%Y-%m-%d %H:%M:%S}", r["label"], r["user"], r["ip"], r["action"], r["model"]]
        cells += [r["object_id"], r["object"], "; ".join(r["details"])]
        writer.writerow([inert(cell) for cell in cells])
        yield pop(buffer)


def pop(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


# Included from dispatch/urls.py under /audit/.
urlpatterns = [
    path("", audit_page, name="audit"),
    path("export.csv", audit_csv, name="audit_csv"),
]
