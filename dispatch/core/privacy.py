"""What a browser may keep of the patient data it was shown.

- API answers are `Cache-Control: no-store`: no browser or proxy cache keeps a patient record,
  a caller's number or a position. An answer that sets its own caching (the road network, which
  never changes after import) keeps it. The tablet's offline copies are not a browser cache: its
  service worker keeps what it chooses in Cache Storage, which this header does not govern, and
  drops it at the end of the shift or the sign-out (static/js/tablet-sw.js).
- Signing out, from any screen, answers with `Clear-Site-Data`: the browser drops this site's
  cookies, its HTTP cache and its storage (the tablet's copies and outbox, any page's local
  state), so the next person at a shared console or tablet finds nothing of the last one's.
"""

from collections.abc import Callable

from django.contrib.auth.views import LogoutView
from django.http import HttpRequest, HttpResponse, HttpResponseBase

API_PREFIX = "/api/"
CLEAR_SITE_DATA = '"cache", "cookies", "storage"'


class NoStoreApiMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if request.path.startswith(API_PREFIX) and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response


class SignOutView(LogoutView):
    """Django's sign-out (POST only, audit event through user_logged_out), plus Clear-Site-Data."""

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = CLEAR_SITE_DATA
        return response
