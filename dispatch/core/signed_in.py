"""The request of a signed-in user, as the type checker should see it.

Django types `request.user` as `User | AnonymousUser`, because any request may be anonymous.
Every API route runs behind django-ninja's session auth (`auth=django_auth` on the API object,
dispatch.core.api) and every page behind login_required or role_required
(dispatch.core.permissions), so in those the user is always a signed-in User: annotating their
`request` with SignedInRequest says so once, instead of a cast at every use. django-ninja finds
the request parameter by its name, not its annotation, so routes may use it too. The anonymous
endpoints (telephony webhooks, the trackers' fast path) keep HttpRequest.
"""

from django.http import HttpRequest

from dispatch.models import User


class SignedInRequest(HttpRequest):
    """An HttpRequest whose user has signed in (never instantiated: an annotation only)."""

    user: User
