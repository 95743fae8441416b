"""The API object, its error handlers and the permission helper the routers share."""

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger
from ninja.security import django_auth

from dispatch.actions import ActionError
from dispatch.api.errors import json_error
from dispatch.api.openapi import DispatchAPI
from dispatch.models import Role

api = DispatchAPI(
    title="120 Dispatch API",
    version="1",
    description="120 emergency medical dispatch: incidents, units, hospitals, the road network.",
    urls_namespace="api",
    openapi_url="/schema/",
    docs_url="/docs/",
    # No "valid schema" badge: it would send the schema's address to validator.swagger.io.
    docs=Swagger(settings={"validatorUrl": None}),
    auth=django_auth,
)


def require_role(request: HttpRequest, *roles: str) -> None:
    """403 unless the signed-in user has one of these roles (superusers pass)."""
    user = request.user
    if not (user.is_superuser or user.role in roles):
        raise HttpError(403, _("Your role may not do this."))


CONTROL_ROOM = (Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)


@api.exception_handler(ActionError)
def action_error(request: HttpRequest, exc: ActionError) -> HttpResponse:
    return json_error(exc.status, exc.message, exc.code)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = []
    for error in exc.errors:
        where = ".".join(str(part) for part in error.get("loc", []) if part not in ("body", "payload"))
        problems.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
    return json_error(422, "Invalid input. " + "; ".join(problems), "invalid", detail=exc.errors)


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return json_error(401, "Login required.", "login_required")


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return json_error(exc.status_code, str(exc), str(exc.status_code))


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return json_error(403, str(exc) or "Forbidden.", "forbidden")


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return json_error(404, str(exc) or "Not found.", "not_found")


@api.exception_handler(ObjectDoesNotExist)
def object_not_found(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
    return json_error(404, str(exc) or "Not found.", "not_found")


# Routers register on the api above. Order matters where paths overlap: locate's
# /incidents/duplicates must come before incidents' /incidents/{incident_id}.
from dispatch.api import (  # noqa: E402
    assignments,
    call_webhooks,
    calls,
    crew,
    fleet,
    geocode,
    handoff,
    incidents,
    locate,
    me,
    positions,
    recommend,
    reports,
    triage,
)

for module in (
    me,
    fleet,
    locate,
    incidents,
    triage,
    assignments,
    recommend,
    positions,
    crew,
    calls,
    call_webhooks,
    geocode,
    reports,
    handoff,
):
    api.add_router("/", module.router)
