"""URL wiring: pages, the REST API with its schema and docs, the admin, login/logout."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from accounts.views import LoginView, landing
from floorplans.apis import BuildingViewSet, DoorViewSet, FloorViewSet, SiteViewSet, ZoneViewSet
from hospital_iot.views import health, healthz, metrics
from readers.apis import IngestApi, ReaderViewSet
from readers.views import reader_list
from tracking.apis import TagViewSet, TrackedObjectViewSet

router = DefaultRouter()
router.register("sites", SiteViewSet, basename="site")
router.register("buildings", BuildingViewSet, basename="building")
router.register("floors", FloorViewSet, basename="floor")
router.register("zones", ZoneViewSet, basename="zone")
router.register("doors", DoorViewSet, basename="door")
router.register("readers", ReaderViewSet, basename="reader")
router.register("tags", TagViewSet, basename="tag")
router.register("tracked-objects", TrackedObjectViewSet, basename="tracked-object")

urlpatterns = [
    path("", include("floorplans.urls")),
    path("", include("alerts.urls")),
    path("", include("infusion.urls")),
    path("", include("security.urls")),
    path("assets/", include("tracking.assets.urls_registry")),
    path("assets/", include("tracking.assets.urls_rules")),
    path("assets/", include("tracking.assets.urls_audits")),
    path("readers/", reader_list, name="reader_list"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/landing/", landing, name="landing"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include(router.urls)),
    path("api/ingest/<str:protocol>/", IngestApi.as_view(), name="ingest"),
    path("api/", include("tracking.urls")),
    path("api/", include("alerts.api_urls")),
    path("api/", include("infusion.api_urls")),
    path("api/", include("security.api_urls")),
    path("api/assets/", include("tracking.assets.api_urls_registry")),
    path("api/assets/", include("tracking.assets.api_urls_rules")),
    path("api/assets/", include("tracking.assets.api_urls_audits")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("health/", health, name="health"),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
]

admin.site.site_header = "hospital_iot administration"
admin.site.site_title = "hospital_iot"
