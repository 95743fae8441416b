"""The site's addresses: each screen's page from its feature package, and the JSON API."""

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from dispatch.api import api
from dispatch.calls.views import locate_me
from dispatch.console.views import console
from dispatch.core.privacy import SignOutView
from dispatch.core.ratelimit import rate_limited
from dispatch.core.signin import SignInView
from dispatch.core.two_factor import set_up as two_factor_set_up
from dispatch.core.two_factor import verify as two_factor_verify
from dispatch.core.views import healthz, home
from dispatch.crew.views import service_worker, tablet
from dispatch.handoff.views import care_record_file, care_record_page, er_board
from dispatch.map.views import city_map
from dispatch.registry.views import import_page
from dispatch.station.views import dispatch_slip, station_screen

urlpatterns = [
    path("", home, name="home"),
    path("console/", console, name="console"),
    path("map/", city_map, name="map"),
    path("er/", er_board, name="er_board"),
    path("er/records/<int:notice_id>/", care_record_page, name="care_record"),
    path("er/records/<int:notice_id>.pdf", care_record_file, name="care_record_pdf"),
    path("tablet/", tablet, name="tablet"),
    path("tablet/sw.js", service_worker, name="tablet_sw"),
    path("station/", station_screen, name="station"),
    path("station/slip/<int:assignment_id>/", dispatch_slip, name="station_slip"),
    path("reports/", include("dispatch.reports.views")),
    path("audit/", include("dispatch.audit.views")),
    path("handover/", include("dispatch.handover.views")),
    path("roster/", include("dispatch.roster.views")),
    path("wallboard/", include("dispatch.wallboard.views")),
    path("major/", include("dispatch.major.views")),
    path("healthz", healthz, name="healthz"),
    path("l/<str:token>", locate_me, name="locate_me"),
    path(
        "login/",
        rate_limited("sign_in", methods=("POST",))(SignInView.as_view()),
        name="login",
    ),
    # Two-factor sign-in (dispatch/core/two_factor.py): the code after the password, and setting
    # up the authenticator app.
    path(
        "login/code/",
        rate_limited("sign_in", methods=("POST",))(two_factor_verify),
        name="two_factor_verify",
    ),
    path("account/two-factor/", two_factor_set_up, name="two_factor"),
    path("logout/", SignOutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    # The scripts' words (locale/*/LC_MESSAGES/djangojs.po) in the page's language.
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["dispatch"]), name="javascript-catalog"),
    path("api/", api.urls),
    # Loading a centre from its files (dispatch/registry/views.py), inside the admin.
    path("admin/registry/import/", admin.site.admin_view(import_page), name="registry_import"),
    path("admin/", admin.site.urls),
]
