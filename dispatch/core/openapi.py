"""What the published schema (/api/schema/) promises: every error answer an operation can give,
in one shape, and operation ids that stay put when code moves.

A route declares the answers only it gives (`response={200: ..., **errors(403, 409)}`); the
answers that follow from an operation's shape are added here for every operation alike:

- 401 when it needs a signed-in user;
- 403 when it needs a signed-in user too: a session that still owes its second factor is refused
  (dispatch/core/two_factor.py), and one that changes something may fail Django's CSRF check;
- 404 when its path names an object;
- 422 when it takes parameters or a body (they are validated, and refused with the field named);
- 400 when it takes a body (one that cannot be read at all: broken JSON, a form without its
  multipart boundary, a body over the size limit).

tests/test_api_fuzz.py fuzzes every operation as every role and fails on any answer the schema
does not document, so a route that gives a new error must say so here or in its own `response`.
"""

from http import HTTPStatus
from typing import Any

from ninja import NinjaAPI, Schema
from ninja.operation import Operation
from pydantic import Field

DESCRIPTIONS = {
    400: "The body could not be read (not JSON, a broken form, too large).",
    401: "Not signed in.",
    403: (
        "This user's role may not do this here, the session has not passed its second factor yet "
        "(code second_factor_required or second_factor_setup_required), or the request failed "
        "its CSRF check."
    ),
    404: "No such object, or not one this user may see.",
    409: "The object's state does not allow this now (someone else changed it first, or out of order).",
    410: "Expired or already used.",
    413: "Too large.",
    422: "Invalid input: the message names each field that is wrong.",
    503: "A service this needs is not available right now; try again.",
}


class ErrorOut(Schema):
    """Every error the API answers has this shape (dispatch.core.errors.json_error)."""

    error: str = Field(description="what is wrong, in the user's language where there is one")
    code: str = Field(description="a stable code for programs, e.g. not_found, conflict, invalid")
    detail: list[dict[str, Any]] | None = Field(None, description="validation problems, one per field")


def errors(*codes: int) -> dict[int, type[ErrorOut]]:
    """Error answers a route gives beyond those its shape implies, for its `response` mapping."""
    return dict.fromkeys(codes, ErrorOut)


def implied_errors(method: str, operation: dict[str, Any]) -> set[int]:
    """The error answers every operation of this shape can give."""
    codes: set[int] = set()
    takes_body = "requestBody" in operation
    if operation.get("security"):
        codes.update((401, 403))
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        codes.add(404)
    if operation.get("parameters") or takes_body:
        codes.add(422)
    if takes_body:
        codes.add(400)
    return codes


class DispatchAPI(NinjaAPI):
    """django-ninja's API with complete error documentation and stable operation ids."""

    def get_openapi_operation_id(self, operation: Operation) -> str:
        # The view's own name: a client generated from the schema keeps its method names when a
        # module is moved or renamed (tests check that the names are unique).
        return operation.view_func.__name__

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        add_error_answers(schema)
        return schema


def add_error_answers(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(
        ErrorOut.__name__, ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    )
    body = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ErrorOut.__name__}"}}}
    for methods in schema["paths"].values():
        for method, operation in methods.items():
            answers = operation["responses"]
            for code in implied_errors(method, operation):
                answers.setdefault(code, {"description": DESCRIPTIONS[code], "content": body})
            for code, answer in answers.items():
                generic = ("Unknown Status Code", HTTPStatus(int(code)).phrase)
                if int(code) in DESCRIPTIONS and answer.get("description") in generic:
                    answer["description"] = DESCRIPTIONS[int(code)]
