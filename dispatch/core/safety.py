"""Settings that must be safe before the server takes a request.

Checked when the ASGI application is built (dispatch/asgi.py), so daphne refuses to start on
them, and by Django's system checks (`manage.py check --deploy` lists them too):

- the published development SECRET_KEY with DEBUG off (anyone could forge sessions);
- a deployment that serves real host names without PUBLIC_BASE_URL: SMS location links and
  Twilio's signatures would otherwise take their address from the request's Host header;
- PUBLIC_BASE_URL on https without secure cookies and HSTS is not possible: settings.py turns
  them on from it.
"""

import ipaddress

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured

LOCAL_NAMES = {"localhost", "testserver", ""}


def is_local(host: str) -> bool:
    """A host name that only this machine or a test client answers to."""
    name = host.strip().lstrip(".").split(":")[0]
    if name in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def problems() -> list[str]:
    found = []
    if not settings.DEBUG and settings.SECRET_KEY == settings.DEV_SECRET_KEY:
        found.append(
            "SECRET_KEY is the published development key: set a long random SECRET_KEY "
            "(make demo and make test write one into var/env)."
        )
    serves_real_hosts = any(not is_local(host) for host in settings.ALLOWED_HOSTS)
    if serves_real_hosts and not settings.PUBLIC_BASE_URL:
        found.append(
            "ALLOWED_HOSTS names real hosts but PUBLIC_BASE_URL is empty: set the public address "
            "(https://120.example.cn) so links and webhook signatures never come from a Host header."
        )
    return found


def refuse_to_start_unsafe() -> None:
    found = problems()
    if found:
        raise ImproperlyConfigured(" ".join(found))


@register("security", deploy=True)
def check_settings(app_configs: object = None, **kwargs: object) -> list[CheckMessage]:
    return [Error(text, id=f"dispatch.E00{k + 1}") for k, text in enumerate(problems())]
