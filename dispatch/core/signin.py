"""Sign-in, sign-out and failed sign-ins, written to the event log as audit events.

The event log is the centre's one record of who did what (decision 4); audit events are kinds of
the `audit.` family, which only administrators receive (dispatch.core.permissions). Throttling
and lock-out of repeated failures are django-axes' (settings: AXES_*): a locked-out attempt is
recorded here too, since axes sends Django's user_login_failed for it.

A user with an authenticator gives its code after the password (dispatch.core.two_factor): the
password step then signs nobody in, and a wrong code is a failed sign-in like a wrong password.
"""

from datetime import timedelta
from math import ceil
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.contrib.auth.views import LoginView
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from dispatch.core import two_factor
from dispatch.core.event_kinds import EventKind
from dispatch.core.events import record_event
from dispatch.models import User

USERNAME_SHOWN = 150  # as long as a user name may be: anything longer is not one of ours


def client_address(request: HttpRequest | None) -> str:
    """The address the request came from, as django-axes judged it (else the socket's)."""
    if request is None:
        return ""
    return str(getattr(request, "axes_ip_address", "") or request.META.get("REMOTE_ADDR", ""))


def over_http(request: HttpRequest | None) -> bool:
    """A sign-in a person made through the site (not one a program made in-process, as tests'
    force_login does with a request that came from no address)."""
    return request is not None and bool(request.META.get("REMOTE_ADDR"))


def session_ends(user: User) -> Any:
    """When a sign-in made now ends: its role's lifetime (settings.SESSION_HOURS_BY_ROLE)."""
    hours = settings.SESSION_HOURS_BY_ROLE.get(user.role, min(settings.SESSION_HOURS_BY_ROLE.values()))
    return timezone.now() + timedelta(hours=hours)


def limit_session(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    """An absolute end, fixed at sign-in: the session does not renew itself by being used, so a
    console left signed in is asked for its password again after the shift it began."""
    session = getattr(request, "session", None)
    if session is not None:
        session.set_expiry(session_ends(user))


def record_signed_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if not over_http(request):
        return
    with transaction.atomic():
        record_event(EventKind.AUDIT_SIGNED_IN, actor=user, data={"ip": client_address(request)})


def record_signed_out(sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any) -> None:
    if user is None or not user.is_authenticated or not over_http(request):
        return  # a sign-out without a session: nothing happened
    with transaction.atomic():
        record_event(EventKind.AUDIT_SIGNED_OUT, actor=user, data={"ip": client_address(request)})


def record_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    tried = str(credentials.get("username", ""))[:USERNAME_SHOWN]
    user = User.objects.filter(username=tried).first() if tried else None
    data = {
        "username": tried,
        "user": user.pk if user else None,
        "ip": client_address(request),
        "locked_out": bool(getattr(request, "axes_locked_out", False)),
        # Which step failed: the password, or the authenticator's code after it.
        "step": "code" if credentials.get("step") == "code" else "password",
    }
    with transaction.atomic():
        record_event(EventKind.AUDIT_SIGN_IN_FAILED, actor=None, data=data)


class SignInView(LoginView):
    """The password step. A user with an authenticator is not signed in yet: the code page
    (two_factor.verify) does that once the code is right."""

    template_name = "login.html"

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if two_factor.confirmed_device(user) is None:
            return super().form_valid(form)
        two_factor.remember_password_passed(self.request, user)
        return two_factor.redirect_with_next("two_factor_verify", self.get_success_url())


def lockout_page(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """What a locked-out sign-in sees (settings.AXES_LOCKOUT_CALLABLE): when to try again, in
    the user's language, with 429 so scripts and proxies know it is throttling."""
    minutes = max(1, ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return render(request, "login_locked.html", {"cooloff_minutes": minutes}, status=429)


def connect() -> None:
    """Called once from the app's ready()."""
    user_logged_in.connect(limit_session, dispatch_uid="dispatch.session.lifetime")
    user_logged_in.connect(record_signed_in, dispatch_uid="dispatch.audit.signed_in")
    user_logged_out.connect(record_signed_out, dispatch_uid="dispatch.audit.signed_out")
    user_login_failed.connect(record_failed, dispatch_uid="dispatch.audit.failed")
