"""Keeps the wallboard's screen account on its page: any other page or API route answers 403
(JSON on the API, like every refusal there), whatever that route's own rule would say. The paths
it may open are dispatch.core.permissions.WALLBOARD_SCREEN_PATHS."""

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from dispatch.core.errors import json_error
from dispatch.core.permissions import is_wallboard_screen, wallboard_screen_may_open


class WallboardConfinementMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and is_wallboard_screen(user) and not wallboard_screen_may_open(request.path):
            message = _("A wallboard screen shows only the wallboard.")
            if request.path.startswith("/api/"):
                return json_error(403, message, "forbidden")
            raise PermissionDenied(message)
        return self.get_response(request)
