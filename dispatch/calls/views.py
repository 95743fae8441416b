"""The page a caller opens from the SMS link: it asks the phone's browser for its position and
posts it back once. No login: the one-time token in the address is the permission, and the page
shows nothing about the incident."""

from datetime import datetime

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from dispatch.calls.actions import token_hash, use_location_link
from dispatch.core.actions import ActionError, checked_point
from dispatch.core.errors import json_error, parse_json_body
from dispatch.core.ratelimit import rate_limited
from dispatch.models import LocationLink

LANGUAGES = {"zh": "zh-hans", "en": "en"}


def link_state(token: str) -> str:
    """ "ok", "used" or "expired" ("expired" also for a token we never issued)."""
    link = LocationLink.objects.filter(token_hash=token_hash(token)).first()
    if link is None or link.expires_at <= timezone.now():
        return "expired"
    return "used" if link.used_at else "ok"


# No CSRF check: no session or cookie gives this page any authority, the token in its address
# does, and a caller's phone that blocks cookies must still be able to send its position.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
@rate_limited("location_link")  # a token cannot be guessed at this pace
def locate_me(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        return post_position(request, token)
    language = LANGUAGES.get(request.GET.get("lang", ""), translation.get_language())
    with translation.override(language):
        state = link_state(token)
        response = render(request, "locate_me.html", {"state": state, "lang": language})
    response.status_code = 200 if state == "ok" else 410
    return response


def position_from(body: dict) -> tuple:
    """The point, its accuracy and the phone's time of the fix, from the page's JSON."""
    point = checked_point(coordinate(body.get("lon")), coordinate(body.get("lat")))
    accuracy = body.get("accuracy_m")
    if accuracy is not None and (isinstance(accuracy, bool) or not isinstance(accuracy, int | float)):
        raise ActionError(_("Accuracy must be a number of metres."), "bad_accuracy")
    return point, accuracy, measured_at(body.get("measured_at"))


def coordinate(value: object) -> float:
    """A coordinate of the page's JSON: a number, or a string of one (float() reads both). Not
    true or false, and not an integer too large for a float (JSON's integers have no limit)."""
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            return float(value)
        except (ValueError, OverflowError):
            pass
    raise ActionError("Coordinates must be numbers.", "bad_coordinates")


def measured_at(value: object) -> datetime | None:
    """The phone's time of the fix (ISO 8601), None when it sent none; an impossible date
    (2026-02-30) is refused rather than guessed."""
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise ActionError(
            _("measured_at is not a real date and time: %(value)s") % {"value": value[:40]}
        ) from exc


def post_position(request: HttpRequest, token: str) -> JsonResponse:
    try:
        body = parse_json_body(request)
    except ValueError:
        return json_error(400, _("Send the position as a JSON object."), "invalid")
    try:
        point, accuracy, measured = position_from(body)
        location = use_location_link(token, point, accuracy, measured, raw=body)
    except ActionError as exc:
        return json_error(exc.status, exc.message, exc.code)
    return JsonResponse({"ok": True, "accuracy_m": location.accuracy_m})
