"""Clients of the API as a browser session is: session cookie, CSRF cookie and header."""

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
