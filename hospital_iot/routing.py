"""Websocket routes. The floor and alert streams are added by the apps that own them."""

from typing import Any

websocket_urlpatterns: list[Any] = []
