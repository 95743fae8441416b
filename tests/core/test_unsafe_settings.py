"""The server refuses to start on settings that would be unsafe in front of real users: the
published development SECRET_KEY with DEBUG off, or real host names without PUBLIC_BASE_URL.
An https public address turns on secure cookies, HSTS and the redirect by itself."""

import json
import os
import subprocess
import sys

from django.conf import settings

from dispatch.core.safety import is_local, problems


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    """Python in a fresh process with these settings (settings are read once, at start)."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "dispatch.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", code], env=environment, cwd=settings.BASE_DIR, capture_output=True, text=True
    )


def test_the_asgi_application_refuses_the_development_key_with_debug_off():
    started = run_python("import dispatch.asgi", SECRET_KEY=settings.DEV_SECRET_KEY, DEBUG="0")
    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr and "SECRET_KEY" in started.stderr
    assert run_python("import dispatch.asgi", SECRET_KEY="a" * 50, DEBUG="0").returncode == 0
    assert run_python("import dispatch.asgi", SECRET_KEY=settings.DEV_SECRET_KEY, DEBUG="1").returncode == 0


def test_real_host_names_need_a_public_address(settings):
    settings.ALLOWED_HOSTS = ["120.example.cn", "127.0.0.1"]
    settings.PUBLIC_BASE_URL = ""
    assert any("PUBLIC_BASE_URL" in problem for problem in problems())
    settings.PUBLIC_BASE_URL = "https://120.example.cn"
    assert problems() == []


def test_loopback_and_test_names_are_local():
    for host in ("127.0.0.1", "localhost", "testserver", "::1", "127.0.0.9"):
        assert is_local(host), host
    for host in ("120.example.cn", "10.0.0.5", ".example.cn"):
        assert not is_local(host), host


def test_an_https_public_address_turns_on_secure_cookies_hsts_and_the_redirect():
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_REDIRECT_EXEMPT]))"
    )
    secure = json.loads(run_python(code, PUBLIC_BASE_URL="https://120.example.cn").stdout)
    assert secure[:4] == [True, True, 365 * 24 * 3600, True]
    assert "^healthz$" in secure[4]  # HAProxy probes in the clear
    plain = json.loads(run_python(code, PUBLIC_BASE_URL="").stdout)
    assert plain[:4] == [False, False, 0, False]
