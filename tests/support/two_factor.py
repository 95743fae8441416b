"""The second factor in tests (dispatch/core/two_factor.py): authenticators, the codes their apps
would show (computed from the device's key, as the app computes them), and signing in past it.

tests/conftest.py makes Django's test-client `force_login` sign a user in completely, the second
factor included: a session marked as verified with the user's authenticator, one given to them
first if their role requires it and they have none (as a finished set-up leaves it). Tests of
the half-signed-in state use `password_only_login`, or the sign-in pages themselves.
"""

import time

from django.test import Client
from django.test.client import ClientMixin
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

# Django's own: a session signed in with the password alone.
DJANGO_FORCE_LOGIN = ClientMixin.force_login


def password_only_login(client: ClientMixin, user, backend=None) -> None:
    """A session that has passed the password and not the second factor."""
    DJANGO_FORCE_LOGIN(client, user, backend)


def give_device(user) -> TOTPDevice:
    """A confirmed authenticator for `user`, as a finished set-up leaves it."""
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def force_login_past_second_factor(client: ClientMixin, user, backend=None) -> None:
    """force_login, then the session verified with the user's authenticator (conftest.py)."""
    from dispatch.core.two_factor import confirmed_device, required_for

    DJANGO_FORCE_LOGIN(client, user, backend)
    device = confirmed_device(user) or (give_device(user) if required_for(user) else None)
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()


def next_code(device: TOTPDevice) -> str:
    """The code the app shows that the server takes next. Each code is taken once: when the
    current one was, the next time step's (the server allows one step of clock difference), and
    when that was too, the wait for the step to turn."""
    device.refresh_from_db()
    while True:
        now = int((time.time() - device.t0) // device.step)
        centre = now + device.drift  # the step the server expects, after the app's known drift
        target = max(centre, device.last_t + 1)
        if target <= centre + device.tolerance:
            token = totp(device.bin_key, device.step, device.t0, device.digits, target - now)
            return f"{token:0{device.digits}d}"
        time.sleep(device.step - (time.time() - device.t0) % device.step + 0.05)


def wrong_code(device: TOTPDevice) -> str:
    """Six digits no step near now would show."""
    device.refresh_from_db()
    key, step, t0, digits = device.bin_key, device.step, device.t0, device.digits
    near = {totp(key, step, t0, digits, device.drift + k) for k in range(-3, 4)}
    return next(f"{n:06d}" for n in range(1000000) if n not in near)


def sign_in_with_code(
    username: str, password: str, device: TOTPDevice | None = None, **client_options
) -> Client:
    """A client signed in through the pages: the password, then the device's code."""
    client = Client(**client_options)
    answer = client.post("/login/", {"username": username, "password": password})
    assert answer.status_code == 302, answer.content[:500]
    if device is not None:
        assert answer["Location"].startswith("/login/code/"), answer["Location"]
        answer = client.post("/login/code/", {"code": next_code(device)})
        assert answer.status_code == 302 and not answer["Location"].startswith("/login/"), answer
    return client
