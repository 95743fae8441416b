"""What every page's template gets: the catalogue of event kinds for the page's scripts, and what
the signed-in user may open (so templates ask the permissions module instead of restating it)."""

from django.http import HttpRequest

from dispatch.core.event_kinds import page_catalogue
from dispatch.core.permissions import is_admin


def event_kinds(request: HttpRequest) -> dict[str, dict[str, dict[str, str]]]:
    """The kinds and their timeline labels in the request's language: templates/base.html hands
    them to static/js/shared.js (KIND, eventLabel), so no script spells a kind itself."""
    return {"event_kinds": page_catalogue()}


def abilities(request: HttpRequest) -> dict[str, bool]:
    """The navigation's choices: the audit trail link only for those the audit page admits."""
    user = getattr(request, "user", None)
    return {"may_audit": bool(user is not None and is_admin(user))}
