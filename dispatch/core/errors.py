"""Errors as JSON under /api/: never an HTML error page for a program to parse."""

import json
import logging
from collections.abc import Callable

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError

log = logging.getLogger(__name__)

API_PREFIX = "/api/"

DEFAULT_MESSAGES = {
    400: "Bad request.",
    401: "Login required.",
    403: "Forbidden.",
    404: "Not found.",
    405: "Method not allowed.",
    413: "Request too large.",
    500: "Server error. The request was not applied.",
}


def json_error(status: int, message: str, code: str = "", **extra) -> JsonResponse:
    body = {"error": message, "code": code or str(status)}
    body.update(extra)
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


# Exceptions Django turns into a 4xx answer (a form without its multipart boundary raised in the
# CSRF check, a body over the size limit): the client's fault, never a server error.
CLIENT_ERRORS = (BadRequest, SuspiciousOperation, MultiPartParserError, PermissionDenied, Http404)


class JsonErrorsForApiMiddleware:
    """Turn Django's HTML error pages (404, CSRF 403, 500) into JSON for /api/ paths."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        status = response.status_code
        return json_error(status, DEFAULT_MESSAGES.get(status, "Request failed."))

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX) or isinstance(exception, CLIENT_ERRORS):
            return None  # Django answers these 4xx itself; __call__ above makes the page JSON
        log.exception("API error on %s", request.path)
        return json_error(500, DEFAULT_MESSAGES[500])


def parse_json_body(request: HttpRequest) -> dict:
    """The request's JSON object, or ValueError with a message for the client."""
    try:
        body = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"Body is not valid JSON: {exc}") from exc
    except RecursionError as exc:  # json's decoder recurses once per level of nesting
        raise ValueError("Body is nested too deeply.") from exc
    if not isinstance(body, dict):
        raise ValueError("Body must be a JSON object.")
    return body
