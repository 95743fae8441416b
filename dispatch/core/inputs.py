"""Input no handler should ever see: refused at the door with a 4xx that names the field.

- A NUL character (U+0000). PostgreSQL's text and jsonb cannot hold it, so a pasted NUL in any
  field turned into a database error, a 500 and, on the crew tablet's queue, a write resent
  forever. Refused with 422 and the field's name, whatever the page or endpoint.
- JSON nested deeper than MAX_JSON_DEPTH. Python's decoder recurses once per level, so a body
  of 100,000 brackets raised RecursionError. Nothing we accept is deeper than a few levels.
- An API body that is JSON but not an object (`[1, 2, 3]`, `"x"`): django-ninja let it through
  as an empty body, and POST /api/incidents opened an empty incident. Every API body is an object.

The crew tablet's batch sync (SELF_CHECKING_PATHS) checks each queued operation itself: a NUL
in one operation must refuse that operation alone, with a stored answer, so the queue moves on.
"""

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _

from dispatch.core.errors import API_PREFIX, json_error

NUL = "\x00"
MAX_JSON_DEPTH = 32
SELF_CHECKING_PATHS = {"/api/crew/sync"}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# The bytes that change JSON nesting or string state; everything else is skipped at C speed.
STRUCTURE = re.compile(rb'[\[\]{}"\\]')


def nul_path(value: Any, path: str = "") -> str | None:
    """Where a NUL sits in decoded JSON or form data, as a dotted path ("" for the top); None if
    nowhere."""
    if isinstance(value, str):
        return path if NUL in value else None
    items: Iterable[tuple[Any, Any]]  # (key, value) of a dict, (index, item) of a list
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        where = f"{path}.{key}" if path else str(key)
        if NUL in str(key):
            return where
        found = nul_path(item, where)
        if found is not None:
            return found
    return None


def json_depth_over(body: bytes, limit: int) -> bool:
    """Whether the JSON text nests arrays and objects deeper than `limit` (strings are skipped)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for match in STRUCTURE.finditer(body):
        char = match.group()
        if in_string:
            if escaped:
                escaped = False
            elif char == b"\\":
                # Only a backslash right before the next structural byte escapes it.
                escaped = match.end() < len(body) and body[match.end() : match.end() + 1] in b'"\\'
            elif char == b'"':
                in_string = False
        elif char == b'"':
            in_string = True
        elif char in b"[{":
            depth += 1
            if depth > limit:
                return True
        elif char in b"]}":
            depth -= 1
    return False


def nul_message(field: str) -> str:
    return _("%(field)s: contains a NUL character (U+0000), which cannot be stored.") % {"field": field}


def querydict_nul(params: QueryDict) -> str | None:
    """The first query or form field whose name or value holds a NUL."""
    return next((k for k, vs in params.lists() if NUL in k or any(NUL in v for v in vs)), None)


def json_nul(body: bytes) -> str | None:
    """Where a NUL sits in a JSON body (escaped as \\u0000, or a raw byte that makes it invalid)."""
    if b"\\u0000" not in body and b"\x00" not in body:
        return None
    if b"\x00" in body:
        return "body"
    try:
        return nul_path(json.loads(body)) or "body"
    except (ValueError, RecursionError):
        return "body"


def request_nul(request: HttpRequest) -> str | None:
    """The field of this request that holds a NUL: its path, a query parameter or a body field."""
    if NUL in request.path:
        return "path"
    found = querydict_nul(request.GET)
    if (
        found is not None
        or request.method in ("GET", "HEAD", "OPTIONS")
        or request.path in SELF_CHECKING_PATHS
    ):
        return found
    if request.content_type in FORM_TYPES:
        try:
            return querydict_nul(request.POST)
        except MultiPartParserError:
            return None  # the view's own parse answers 400
    return json_nul(request.body)


def refusal(request: HttpRequest, status: int, message: str, code: str) -> HttpResponse:
    if request.path.startswith(API_PREFIX) or request.content_type == "application/json":
        return json_error(status, message, code)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def not_an_object(request: HttpRequest) -> bool:
    """An API request whose JSON body is something other than an object."""
    body = request.body.lstrip()
    return request.path.startswith(API_PREFIX) and bool(body) and not body.startswith(b"{")


class RefuseMalformedInputMiddleware:
    """Answers 422 for a NUL or a non-object API body and 400 for JSON nested too deeply,
    before any view parses it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        is_json = request.content_type == "application/json"
        if is_json and json_depth_over(request.body, MAX_JSON_DEPTH):
            message = _("The JSON body is nested more than %(depth)d levels deep.")
            return refusal(request, 400, message % {"depth": MAX_JSON_DEPTH}, "too_deep")
        if is_json and not_an_object(request):
            return refusal(request, 422, _("The body must be a JSON object ({...})."), "not_an_object")
        field = request_nul(request)
        if field is not None:
            return refusal(request, 422, nul_message(field), "nul_character")
        return self.get_response(request)
