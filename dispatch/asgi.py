"""ASGI entry point: HTTP through Django, WebSockets through Channels (served by daphne)."""

import gc
import os
import sys
import threading

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatch.settings")

from django.conf import settings  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from dispatch.core.safety import refuse_to_start_unsafe  # noqa: E402

refuse_to_start_unsafe()

# The event loop (every socket, every tracker's fix) shares the interpreter lock with the threads
# that run Django's views. Each time the loop waits on the network it gives the lock up, and a
# view thread busy in Python keeps it for up to the switch interval (5 ms by default): under
# load the loop then spends most of its time waiting for the lock, and screens fall seconds
# behind. A shorter interval hands it back sooner, for a little more switching.
sys.setswitchinterval(settings.INTERPRETER_SWITCH_INTERVAL_S)

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from dispatch.core.access_log import AccessLog  # noqa: E402
from dispatch.core.health import HealthProbe  # noqa: E402
from dispatch.core.origin import SameOriginValidator  # noqa: E402
from dispatch.core.routing import websocket_urlpatterns  # noqa: E402
from dispatch.core.view_gate import ViewGate  # noqa: E402
from dispatch.coverage.live import warm_demand  # noqa: E402
from dispatch.positions.fast_path import TrackerFastPath  # noqa: E402
from fleet.roads.router import warm_router  # noqa: E402

# Every route loaded now, not on the first request: importing all features' views and the API
# takes seconds, which would otherwise fall on the first dispatcher after a restart or failover.
get_resolver().url_patterns  # noqa: B018


def warm_up() -> None:
    """The road router, then the coverage demand built on it (fleet.roads.router.warm_router,
    dispatch.coverage.live.warm_demand): seconds that would otherwise fall on the first calls.
    Then the heap as it stands is set aside from the garbage collector."""
    warm_router()
    warm_demand()
    set_aside_the_loaded_heap()


def set_aside_the_loaded_heap() -> None:
    """Move every object alive now (Django, every route, the router, half a million in all) out
    of the collector's reach. A full collection walks every object it tracks, and each one
    stopped the whole process, event loop and every screen, for 160 to 190 ms (measured in
    daphne at 1,000 units), about once a minute; frozen, they are never walked again, and a
    full collection walks only what was made since (10 to 30 ms measured). They are all meant
    to live as long as the process anyway."""
    gc.collect()
    gc.freeze()


# In a thread so the node answers at once; only when daphne's command line loads the app (an
# app node), not when a test or a command imports it: there the database may not be the one the
# router should come from.
if "daphne.cli" in sys.modules:
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()

django_http_app = ASGIStaticFilesHandler(django_asgi_app) if settings.SERVE_STATIC else django_asgi_app
# Trackers' fixes (/api/osmand) are answered before Django's stack: see TrackerFastPath. The
# access log is ours, around everything, and keeps no token, key, number or query string.
# HAProxy's /healthz is answered on the event loop, so a busy node is not taken for a dead one.
# At most VIEW_CONCURRENCY Django requests at once (dispatch/core/view_gate.py).
http_app = AccessLog(HealthProbe(TrackerFastPath(ViewGate(django_http_app))))

application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
