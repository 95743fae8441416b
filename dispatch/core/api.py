"""The API object and its error handlers: every error answer is JSON of one shape (ErrorOut).

The features' routers are added to it by dispatch.api."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger
from ninja.security import django_auth

from dispatch.core.actions import ActionError
from dispatch.core.errors import json_error
from dispatch.core.openapi import DispatchAPI


def signed_in_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The schema and its docs page are for signed-in users: they map every endpoint, which is
    of use to an attacker and of none to the public. The schema answers 401 like the API; the
    docs page sends a browser to sign in."""

    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.path.endswith("/schema/"):
            return json_error(401, _("Sign in to read the API schema."), "login_required")
        return redirect_to_login(request.get_full_path())

    return checked


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
    docs_decorator=signed_in_only,
)


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
