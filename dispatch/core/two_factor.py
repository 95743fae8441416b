"""Two-factor sign-in: a code from an authenticator app (TOTP, django-otp) after the password.

Who owes what: a user with a confirmed device gives its code at every sign-in; a user whose role
is in settings.TWO_FACTOR_REQUIRED_ROLES (administrators and supervisors unless set otherwise; a
superuser counts as every role) and who has none must set one up before anything else. Anyone
else may set one up from the link beside "Sign out".

The password step is dispatch.core.signin.SignInView: with a device it signs nobody in, it
remembers who gave the right password (PENDING) and sends them here; the code then signs them in
(django.contrib.auth.login, so the session's lifetime, the audit event and django-axes' reset all
follow) and marks the session as verified with the device (django_otp's session key). A wrong
code is a failed sign-in like a wrong password: django-axes counts it towards the same lock-out
and dispatch.core.signin records it as an audit event.

SecondFactorMiddleware holds every request of a session whose role requires the second factor
and that has not passed it: a page is sent to the code or the set-up page, the API answers 403
(code second_factor_required or second_factor_setup_required), and the live socket
(dispatch.core.live) refuses it.
"""

import time
from base64 import b32encode
from collections.abc import Callable
from typing import Any

import segno
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.contrib.sessions.backends.base import SessionBase
from django.db import InterfaceError, OperationalError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from dispatch.core.errors import API_PREFIX, json_error
from dispatch.core.event_kinds import EventKind
from dispatch.core.events import record_event
from dispatch.core.failover import read_with_retries, unavailable
from dispatch.core.permissions import has_role
from dispatch.models import User

# Who gave the right password and still owes the code: {"user", "backend", "at"} in the session.
PENDING = "two_factor_pending"
PENDING_SECONDS = 5 * 60  # then the password again
DEVICE_NAME = "authenticator"
# One-time codes for a lost phone, shown once when two-factor sign-in is turned on; each signs
# in once, in place of the app's code.
BACKUP_CODES = 8
BACKUP_NAME = "backup"
BACKUP_EXAMPLE = StaticToken.random_token()  # its length: 8 (the app's codes have 6)

# What a session still owes.
VERIFY = "verify"  # the code of its confirmed device
SET_UP = "set_up"  # a device: its role requires one and it has none

# Pages a session that owes a step may still open: signing in and out, the language, the
# scripts' words, the health probe; and the page of the step it owes.
OPEN_PAGES = {"login", "logout", "set_language", "javascript-catalog", "healthz"}
STEP_PAGES = {VERIFY: "two_factor_verify", SET_UP: "two_factor"}


def required_for(user: Any) -> bool:
    """Whether this user's role must sign in with a second factor."""
    return has_role(user, *settings.TWO_FACTOR_REQUIRED_ROLES)


def confirmed_device(user: Any) -> TOTPDevice | None:
    """The user's authenticator, once its set-up is confirmed."""
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).first()


def session_device(user: Any, session: SessionBase) -> Device | None:
    """The confirmed device of this user this session has passed, if any."""
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    device = Device.from_persistent_id(persistent_id) if persistent_id else None
    if device is None or device.user_id != user.pk or not device.confirmed:
        return None
    return device


def owed_step(user: Any, passed: Device | None) -> str | None:
    """What a signed-in user whose session has passed `passed` (None: no device) still owes.

    Only a role that requires the second factor owes anything once signed in: for anyone else
    the code is asked at the sign-in itself (signin.SignInView), so their requests cost no
    query here, and a session they signed in before setting up a device goes on as it was."""
    if not user.is_authenticated or passed is not None or not required_for(user):
        return None
    return VERIFY if confirmed_device(user) is not None else SET_UP


def session_owes(user: Any, session: SessionBase) -> str | None:
    """The same for a session read by its store (the live socket has no request)."""
    return owed_step(user, session_device(user, session))


def request_owes(request: HttpRequest) -> str | None:
    """The same for a request (OTPMiddleware has put the verified device on its user)."""
    user = request.user
    return owed_step(user, getattr(user, "otp_device", None))


def refusal_message(step: str) -> str:
    if step == SET_UP:
        return _("Your role signs in with a second factor: set up two-factor sign-in at %(url)s first.") % {
            "url": reverse("two_factor")
        }
    return _("Enter the code from your authenticator app at %(url)s first.") % {
        "url": reverse("two_factor_verify")
    }


REFUSAL_CODES = {VERIFY: "second_factor_required", SET_UP: "second_factor_setup_required"}


class SecondFactorMiddleware:
    """After OTPMiddleware: a session that owes a step reaches nothing else until it is done."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The first database read of most requests happens here, before the view and before
        # FailoverRetryMiddleware: a connection broken by a failover is replaced, not a 500.
        try:
            step = read_with_retries(lambda: request_owes(request))
        except (OperationalError, InterfaceError):
            return unavailable()
        if step is None or self.is_open(request, step):
            return self.get_response(request)
        if request.path.startswith(API_PREFIX):
            return json_error(403, refusal_message(step), REFUSAL_CODES[step])
        return redirect_with_next(STEP_PAGES[step], request.get_full_path())

    @staticmethod
    def is_open(request: HttpRequest, step: str) -> bool:
        if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return True
        try:
            name = resolve(request.path_info).url_name
        except Resolver404:
            return False
        return name in OPEN_PAGES or name == STEP_PAGES[step]


def redirect_with_next(name: str, next_url: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse(name)}?{urlencode({'next': next_url})}")


def safe_next(request: HttpRequest) -> str:
    """Where to go after the step: the `next` the page carried, if it is one of ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


def entered_code(request: HttpRequest) -> str:
    """The code as typed: authenticator apps show it as "123 456"."""
    return "".join(request.POST.get("code", "").split())[:16]


# ---- Actions: each one transaction and one audit event ----


def start_set_up(user: User) -> TOTPDevice:
    """The user's unconfirmed authenticator (a new secret the first time), to show as a QR code."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
            record_event(EventKind.AUDIT_TWO_FACTOR_ENROLLING, actor=user, data={"device": device.pk})
        return device


def confirm_set_up(user: User, code: str) -> tuple[TOTPDevice, list[str]] | None:
    """Turn two-factor sign-in on with the first code the app shows, and issue the backup codes
    (the device and the codes, to show once); None (and nothing changed but django-otp's count of
    wrong codes) when the code is not the secret's."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
        if device is None or not device.verify_token(code):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        StaticDevice.objects.filter(user=user).delete()
        backup = StaticDevice.objects.create(user=user, name=BACKUP_NAME, confirmed=True)
        codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=backup, token=token) for token in codes)
        record_event(
            EventKind.AUDIT_TWO_FACTOR_CONFIRMED,
            actor=user,
            data={"device": device.pk, "backup_codes": len(codes)},
        )
        return device, codes


def remove_device(user: User, code: str) -> bool:
    """Turn two-factor sign-in off, proved with a current code (a session left open at a console
    cannot do it); the user's every device goes, confirmed or not."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is None or not device.verify_token(code):
            return False
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        record_event(EventKind.AUDIT_TWO_FACTOR_REMOVED, actor=user, data={"device": device.pk})
        return True


def verify_code(user: User, code: str) -> Device | None:
    """The device that takes `code`: the app's if it is its current code (each is taken once),
    else the backup codes' if it is one of them (used up by it)."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is None:
            return None
        if len(code) != len(BACKUP_EXAMPLE):  # the app's 6 digits, or anything but a backup code
            return device if device.verify_token(code) else None
        backup = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        return backup if backup is not None and backup.verify_token(code.lower()) else None


# ---- The password step hands over here ----


def remember_password_passed(request: HttpRequest, user: User) -> None:
    """Called by the password step for a user with a device: not signed in yet."""
    request.session[PENDING] = {
        "user": user.pk,
        "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[-1]),
        "at": time.time(),
    }


def pending_user(request: HttpRequest) -> tuple[User, str] | None:
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        return None
    user = User.objects.filter(pk=int(pending.get("user", 0)), is_active=True).first()
    return (user, str(pending.get("backend"))) if user is not None else None


# ---- Pages ----


def verify(request: HttpRequest) -> HttpResponse:
    """The second step: the code, after the password (or for a session that has not given it)."""
    pending = pending_user(request)
    if pending is not None:
        user, backend = pending
    elif request_owes(request) == VERIFY:
        user, backend = request.user, ""  # type: ignore[assignment]  # signed in already
    elif request.user.is_authenticated:
        return redirect(safe_next(request))
    else:
        return redirect_with_next("login", safe_next(request))
    context = {"next": safe_next(request), "username": user.get_username()}
    if request.method != "POST":
        return render(request, "two_factor_verify.html", context)
    # Locked out (wrong passwords or codes, for this name or from this address): no code is
    # tried. The attempt is recorded, and AxesMiddleware answers with the lock-out page whenever
    # the request is marked locked, here or by this failure reaching the limit.
    credentials = {"username": user.get_username(), "step": "code"}
    locked = not AxesProxyHandler.is_allowed(request, credentials)
    device = None if locked else verify_code(user, entered_code(request))
    if device is None:
        request.axes_locked_out = locked  # type: ignore[attr-defined]
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        return render(request, "two_factor_verify.html", {**context, "wrong": True})
    if pending is not None:
        user.otp_device = device  # type: ignore[attr-defined]  # django_otp marks the session on login
        login(request, user, backend=backend)
        request.session.pop(PENDING, None)
    else:
        request.session.cycle_key()
        otp_login(request, device)
    return redirect(context["next"])


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline SVG: markup, which the CSP lets through, not script."""
    qr = segno.make(device.config_url, error="m")
    return mark_safe(qr.svg_inline(scale=4, border=4, dark="#1b1f24", light="#ffffff", omitsize=False))


def spaced_secret(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, to type into an app that cannot scan."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@login_required
def set_up(request: HttpRequest) -> HttpResponse:
    """Set up (or remove) the user's authenticator: a QR code and the secret, confirmed by a code."""
    user: User = request.user  # type: ignore[assignment]
    context: dict[str, Any] = {"next": safe_next(request), "required": required_for(user)}
    device = confirmed_device(user)
    if device is not None:
        if request.method == "POST" and request.POST.get("action") == "remove":
            if remove_device(user, entered_code(request)):
                request.session.pop(DEVICE_ID_SESSION_KEY, None)
                return redirect("two_factor")
            context["wrong"] = True
        context["device"] = device
        context["backup_left"] = StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
        return render(request, "two_factor_setup.html", context)
    if request.method == "POST" and request.POST.get("action") == "confirm":
        confirmed = confirm_set_up(user, entered_code(request))
        if confirmed is not None:
            device, codes = confirmed
            request.session.cycle_key()
            otp_login(request, device)
            # Shown this once: the page that answers the confirmation, never stored in the clear.
            return render(request, "two_factor_setup.html", {**context, "device": device, "codes": codes})
        context["wrong"] = True
    pending = start_set_up(user)
    context.update(qr=qr_svg(pending), secret=spaced_secret(pending), account=user.get_username())
    return render(request, "two_factor_setup.html", context)
