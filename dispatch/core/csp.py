"""The Content-Security-Policy header on every response (settings.CONTENT_SECURITY_POLICY).

django-csp's middleware, plus two additions that depend on the request:
- the request's own host for WebSockets: the pages open ws(s)://<this host>/ws/..., and 'self'
  in connect-src does not cover ws: and wss: in every browser. Naming the host keeps sockets to
  any other server refused, which `ws: wss:` would allow;
- on the admin pages, what Django's map widget for location fields loads from outside:
  OpenLayers from its CDN (the addresses of the widget's own Media, so a Django upgrade that
  moves them moves these too) and the NASA tiles of its base layer (static/js/admin-map.js).
"""

from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.middleware import PolicyParts
from django.contrib.gis.forms.widgets import OpenLayersWidget
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponseBase

ADMIN_PREFIX = "/admin/"
MAP_TILES = [f"https://map1{n}.vis.earthdata.nasa.gov" for n in "abc"]


def socket_sources(request: HttpRequest) -> list[str]:
    """ws:// and wss:// for the host the browser asked for; none for a host Django refuses."""
    try:
        host = request.get_host()
    except DisallowedHost:
        return []
    return [f"ws://{host}", f"wss://{host}"]


def external(paths: list[str]) -> list[str]:
    return [str(path) for path in paths if str(path).startswith("https://")]


def admin_map_sources() -> dict[str, list[str]]:
    media = OpenLayersWidget.Media
    return {
        "script-src": external(media.js),
        "style-src": external([path for paths in media.css.values() for path in paths]),
        "img-src": MAP_TILES,
    }


class CSPMiddleware(BaseCSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        update = dict(parts.update or {})
        extra = {"connect-src": socket_sources(request)}
        if request.path.startswith(ADMIN_PREFIX):
            extra.update(admin_map_sources())
        for directive, sources in extra.items():
            update[directive] = [*update.get(directive, ()), *sources]
        parts.update = update
        return parts
