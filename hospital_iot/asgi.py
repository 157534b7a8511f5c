"""ASGI entry point: Django HTTP (views, DRF, admin) and websockets (Channels) in one daphne process."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hospital_iot.settings")

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()  # before importing anything that touches models

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from hospital_iot.routing import websocket_urlpatterns  # noqa: E402
from hospital_iot.runtime import gc_tune  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# daphne relays thousands of websocket messages a second: the same collector settings as run_rtls
gc_tune()
