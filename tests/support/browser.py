"""Browser tests: a real daphne serving the test database, driven by Playwright in Debian's
Chromium (never a downloaded browser). Import the fixtures from here in a test module."""

import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
]


def free_port() -> int:
    sys.path.insert(0, str(Path(settings.BASE_DIR) / "ops" / "local"))
    from free_port import free_port as pick

    return pick(0)


def test_database_url() -> str:
    db = connection.settings_dict
    host, port = db["HOST"].split(",")[0], str(db["PORT"]).split(",")[0]
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{host}:{port}/{db['NAME']}"


class Daphne:
    """A daphne process on one port, reading the test database and the test Redis. A test may
    stop it (the server is gone, as in a tunnel) and start it again on the same port."""

    def __init__(self, port: int, env: dict[str, str] | None = None) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = env or {}  # settings of its own (a test's geocoder, say)
        self.process: subprocess.Popen | None = None

    def start(self) -> "Daphne":
        env = {**os.environ, "DATABASE_URL": test_database_url(), "DB_POOL": "0", **self.env}
        daphne = Path(sys.executable).with_name("daphne")
        with open(Path(settings.BASE_DIR) / "var" / f"browser-daphne-{self.port}.log", "a") as log:
            self.process = subprocess.Popen(
                [str(daphne), "--access-log", os.devnull, "-b", "127.0.0.1", "-p", str(self.port)]
                + ["dispatch.asgi:application"],
                env=env,
                cwd=settings.BASE_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=1)
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        pytest.fail(f"daphne did not start; see var/browser-daphne-{self.port}.log")

    def stop(self) -> None:
        """SIGTERM; daphne waits for open sockets to close, so SIGKILL after 5 s: a server left
        running would hold its database session past the test database's teardown."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def need_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("browser tests need Debian's chromium (make test installs it)")


def eventually(check, seconds: float = 20.0):
    """Wait for the daphne process to have written what `check` looks for; its last value."""
    deadline = time.monotonic() + seconds
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return value


@pytest.fixture(scope="session")
def live_url(django_db_setup, django_db_blocker) -> str:
    """A daphne process on a free port for the browser tests."""
    need_chromium()
    server = Daphne(free_port()).start()
    yield server.url
    server.stop()


@contextmanager
def own_daphne(env: dict[str, str] | None = None):
    """A daphne of the test's own, for a test that stops it or needs settings of its own."""
    need_chromium()
    server = Daphne(free_port(), env).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module. Playwright's sync API keeps an event loop running in
    this thread while it is open, which would break the async tests of later modules, so
    it is closed (and the loop with it) at the end of each module."""
    from playwright.sync_api import sync_playwright

    # The ORM calls our tests make between page actions are plain synchronous calls, but
    # Django sees the running loop and would refuse them without this.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


# What this test opened, and every script error its pages threw: tests/conftest.py closes the
# contexts after each test (an old page would keep polling the shared daphne) and fails a test
# whose pages threw, since a screen that threw half-way through drawing shows stale state.
OPEN_CONTEXTS: list = []
PAGE_ERRORS: list[str] = []


def signed_in_page(browser, live_url: str, user, **context_options):
    """A new browser context signed in as `user` (the session cookie from Django's own login)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(locale="zh-CN", **context_options)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_url}])
    OPEN_CONTEXTS.append(context)
    page = context.new_page()
    page.on("pageerror", lambda error: PAGE_ERRORS.append(f"{page.url}: {error}\n{error.stack}"))
    page.set_default_timeout(20_000)  # generous: CI machines are shared and a cold router compiles
    return page


def checkable_by_daphne(user, password: str) -> None:
    """Store `user`'s password with Django's default hasher: tests hash with MD5
    (conftest.fast_password_hashing), which the daphne process does not accept."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password

    user.password = make_password(password, hasher=PBKDF2PasswordHasher())
    user.save(update_fields=["password"])


def signed_in_through_pages(browser, live_url: str, user, password: str, device=None, **context_options):
    """A new browser context signed in as a person does it: the sign-in page, then, for a user
    with an authenticator (`device`), the code page with the code its app shows now
    (tests/support/two_factor.py). The page is left where the sign-in sent it."""
    from tests.support.two_factor import next_code

    checkable_by_daphne(user, password)
    username = user.get_username()
    context = browser.new_context(locale="zh-CN", **context_options)
    OPEN_CONTEXTS.append(context)
    page = context.new_page()
    page.on("pageerror", lambda error: PAGE_ERRORS.append(f"{page.url}: {error}\n{error.stack}"))
    page.set_default_timeout(20_000)
    page.goto(f"{live_url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    if device is not None:
        page.fill("#two-factor-verify input[name=code]", next_code(device))
        with page.expect_navigation():
            page.click("button[type=submit].primary")
    return page
