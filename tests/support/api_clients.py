"""Clients of the API as a browser session is: session cookie, CSRF cookie and header."""

from typing import Any

from django.middleware.csrf import _get_new_csrf_string
from django.test import Client


def signed_in(user) -> tuple[dict[str, str], dict[str, str]]:
    """Cookies and headers of a browser session: the session and a CSRF token, as the pages send."""
    token = _get_new_csrf_string()
    cookies = {"csrftoken": token}
    if user is not None:
        client = Client()
        client.force_login(user)
        cookies["sessionid"] = client.cookies["sessionid"].value
    return cookies, {"X-CSRFToken": token}


def published_schema(user: Any) -> Any:
    """The API's OpenAPI schema as schemathesis reads it, fetched as this user (it is for
    signed-in users only), for requests sent in process to the real application over WSGI."""
    import schemathesis
    from django.core.wsgi import get_wsgi_application

    client = Client()
    client.force_login(user)
    schema = schemathesis.openapi.from_dict(client.get("/api/schema/").json())
    schema.app = get_wsgi_application()
    return schema
