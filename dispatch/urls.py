"""The site's addresses: each screen's page from its feature package, and the JSON API."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from dispatch.api import api
from dispatch.calls.views import locate_me
from dispatch.console.views import console
from dispatch.core.views import healthz, home
from dispatch.crew.views import service_worker, tablet
from dispatch.handoff.views import er_board
from dispatch.map.views import city_map

urlpatterns = [
    path("", home, name="home"),
    path("console/", console, name="console"),
    path("map/", city_map, name="map"),
    path("er/", er_board, name="er_board"),
    path("tablet/", tablet, name="tablet"),
    path("tablet/sw.js", service_worker, name="tablet_sw"),
    path("reports/", include("dispatch.reports.views")),
    path("healthz", healthz, name="healthz"),
    path("l/<str:token>", locate_me, name="locate_me"),
    path("login/", auth_views.LoginView.as_view(template_name="login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    # The scripts' words (locale/*/LC_MESSAGES/djangojs.po) in the page's language.
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["dispatch"]), name="javascript-catalog"),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
