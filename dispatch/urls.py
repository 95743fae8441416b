from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from dispatch import views, views_location, views_tablet
from dispatch.api.main import api
from dispatch.views_er import er_board

urlpatterns = [
    path("", views.home, name="home"),
    path("console/", views.console, name="console"),
    path("map/", views.city_map, name="map"),
    path("er/", er_board, name="er_board"),
    path("tablet/", views_tablet.tablet, name="tablet"),
    path("tablet/sw.js", views_tablet.service_worker, name="tablet_sw"),
    path("reports/", include("dispatch.views_reports")),
    path("healthz", views.healthz, name="healthz"),
    path("l/<str:token>", views_location.locate_me, name="locate_me"),
    path("login/", auth_views.LoginView.as_view(template_name="login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
