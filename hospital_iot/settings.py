"""Settings for hospital_iot, driven by environment variables (see README, "Configuration").

Every setting a deployment changes is read from the environment; the defaults are for one machine
running the demo: PostgreSQL/PostGIS, Redis and Mosquitto on 127.0.0.1.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import django_stubs_ext

# lets admin.ModelAdmin[Model] and friends be written with their type parameters at run time
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HOSPITAL_IOT_VAR_DIR", BASE_DIR / "var"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """The key from DJANGO_SECRET_KEY, else one generated once and kept in var/secret_key."""
    if key := os.environ.get("DJANGO_SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
CSRF_TRUSTED_ORIGINS = [
    origin for origin in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if origin
]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "leaflet",  # only for its static copy of Leaflet (leaflet/leaflet.js, .css), which the floor map loads
    "floorplans",
    "readers",
    "tracking",
    "infusion",
    "alerts",
    "security",
    # last: its post_migrate hook gives role groups the permissions the apps above created
    "accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hospital_iot.urls"
ASGI_APPLICATION = "hospital_iot.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.contrib.gis.db.backends.postgis",
        "NAME": os.environ.get("POSTGRES_DB", "hospital_iot"),
        "USER": os.environ.get("POSTGRES_USER", "hospital_iot"),
        "PASSWORD": os.environ.get("POSTGRES_PASSWORD", "hospital_iot"),
        "HOST": os.environ.get("POSTGRES_HOST", "127.0.0.1"),
        "PORT": os.environ.get("POSTGRES_PORT", "5432"),
        "CONN_MAX_AGE": 60,
    }
}

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
MQTT_HOST = os.environ.get("MQTT_HOST", "127.0.0.1")
MQTT_PORT = int(os.environ.get("MQTT_PORT", "1883"))

# location history: daily partitions older than this are dropped; a tag's fix is kept when it moved
# HISTORY_MIN_MOVE_M, changed zone or floor, or HISTORY_STILL_EVERY_S passed since its last kept fix
LOCATION_HISTORY_RETENTION_DAYS = int(os.environ.get("HOSPITAL_IOT_HISTORY_RETENTION_DAYS", "90"))
HISTORY_MIN_MOVE_M = 1.0
HISTORY_STILL_EVERY_S = 30.0
# /metrics: answered to localhost without a token; from elsewhere it needs "Authorization: Bearer <token>"
METRICS_TOKEN = os.environ.get("HOSPITAL_IOT_METRICS_TOKEN", "")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # redis-py 8 times reads out after 5 s, exactly channels_redis's blocking wait for a message: an idle
        # websocket then dies with TimeoutError. A longer socket timeout keeps idle consumers alive.
        # redis-py 8 caps an asyncio pool at 100 connections and raises beyond (it does not wait): a ward of
        # tablets reconnecting at once (every consumer's group_add / group_discard takes one) got "Too many
        # connections" and left stale members in the groups. Redis itself allows 10,000 clients.
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15, "max_connections": 5000}]},
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# the demo's login page lists the demo accounts (set by `make run`; never in production)
SHOW_DEMO_LOGINS = _env_bool("HOSPITAL_IOT_SHOW_DEMO_LOGINS", False)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "landing"  # the first page the user's role opens (accounts.views.landing)
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("HOSPITAL_IOT_TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
WHITENOISE_USE_FINDERS = True  # serve from the sources too, so a missed collectstatic is not a broken page
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # token first: an anonymous API call then gets 401 with a WWW-Authenticate header
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.ModelPermissionsWithView"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 200,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "hospital_iot API",
    "DESCRIPTION": (
        "Open real-time location system for hospitals. Coordinates are floor-local metres "
        "(x right, y up from the plan's lower-left corner). People log in with a session; "
        "machines send `Authorization: Token <key>`."
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and Redoc served from the installed sidecar package, not a CDN
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ZoneKindEnum": "floorplans.models.Zone.Kind",
        "ReaderKindEnum": "readers.models.Reader.Kind",
        "AuditKindEnum": "tracking.models.Audit.Kind",
        "AuditStateEnum": "tracking.models.Audit.State",
        "AssetStatusEnum": "tracking.models.Asset.Status",
        "AssetCategoryEnum": "tracking.models.Asset.Category",
        "TagTechEnum": "tracking.models.Tag.Tech",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("HOSPITAL_IOT_LOG_LEVEL", "INFO")},
    # sllurp narrates every connect and disconnect at INFO
    "loggers": {"sllurp": {"level": "WARNING"}},
}

# GDAL < 3.9 (Debian 12 ships 3.6) cannot block file/network access while parsing spatial
# references; hospital_iot parses only the SRID its own migration registers, never user input.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]
