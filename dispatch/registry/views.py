"""The admin's upload of a centre's files (/admin/registry/import/): the files are checked and
the dry run's report shown; "Import" then loads what was checked, through the same importer as
`manage.py import_centre`. Administrators only; the import is one audit entry besides the events
of each record it changed (dispatch/audit/)."""

import base64
import zlib

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from dispatch.core.event_kinds import EventKind
from dispatch.core.events import record_event
from dispatch.core.permissions import is_admin
from dispatch.models import User
from dispatch.registry.formats import BY_NAME
from dispatch.registry.importer import Report, import_files

STASH = "registry_import_files"  # the checked files, in the admin's session until imported
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # larger centres use manage.py import_centre


def stash(request: HttpRequest, files: list[tuple[str, bytes]]) -> None:
    request.session[STASH] = [(name, base64.b64encode(zlib.compress(data)).decode()) for name, data in files]


def unstash(request: HttpRequest) -> list[tuple[str, bytes]]:
    return [(name, zlib.decompress(base64.b64decode(data))) for name, data in request.session.pop(STASH, [])]


def audit(user: User, names: list[str], report: Report) -> None:
    """One audit entry for the whole import, shaped like the admin's own (dispatch/audit/)."""
    data = {
        "action": "imported",
        "model": "registry.centre",
        "object_id": "",
        "object": ", ".join(names),
        "changes": {name: report.file_summary(name) for name in report.counts},
        "username": user.get_username(),
    }
    record_event(EventKind.AUDIT_ADMIN_EDIT, actor=user, data=data)


def import_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not is_admin(user):
        raise PermissionDenied(_("Loading a centre is for administrators."))
    assert isinstance(user, User)
    report: Report | None = None
    error = ""
    names: list[str] = []
    if request.method == "POST" and "check" in request.POST:
        uploads = request.FILES.getlist("files")
        request.session.pop(STASH, None)
        if not uploads:
            error = _("Choose the centre's files (or one zip of them) first.")
        elif sum(u.size or 0 for u in uploads) > MAX_UPLOAD_BYTES:
            error = _("More than %(mb)d MB: load files this large with manage.py import_centre.") % {
                "mb": MAX_UPLOAD_BYTES >> 20
            }
        else:
            files = [(u.name or "", u.read()) for u in uploads]
            names = [name for name, _data in files]
            report = import_files(files, dry_run=True, actor=user)
            if report.ok:
                stash(request, files)
    elif request.method == "POST" and "import" in request.POST:
        files = unstash(request)
        names = [name for name, _data in files]
        if not files:
            error = _("Nothing checked to import: upload the files and check them first.")
        else:
            with transaction.atomic():
                report = import_files(files, actor=user)
                if report.written:
                    audit(user, names, report)
    context = admin.site.each_context(request) | {
        "title": _("Load a centre from files"),
        "report": report,
        "error": error,
        "names": names,
        "known_files": list(BY_NAME),
        "checked": report is not None and report.ok and report.dry_run,
        "done": report is not None and report.written,
    }
    return TemplateResponse(request, "admin/registry/import_centre.html", context)
