"""Keeps a screen account (a station's alert screen, the control room's wallboard) on its own
pages: anything else answers 403 (JSON on the API, like every refusal there), whatever that
route's own rule would say. Which screens and pages: dispatch.core.permissions.SCREENS."""

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from dispatch.core.errors import json_error
from dispatch.core.permissions import screen_refusal


class ScreenConfinementMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        refusal = screen_refusal(user, request.path) if user is not None else None
        if refusal is not None:
            if request.path.startswith("/api/"):
                return json_error(403, refusal, "forbidden")
            raise PermissionDenied(refusal)
        return self.get_response(request)
