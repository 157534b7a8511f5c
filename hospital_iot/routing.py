"""Websocket routes, behind asgi.py's origin check and session authentication.

People arrive logged in through their session cookie. Machines (an integration's token) may instead
send `Authorization: Token <key>` with the handshake, as they do on the REST API.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser
from django.urls import path
from rest_framework.authtoken.models import Token

from alerts.consumers import AlertConsumer
from tracking.consumers import FloorConsumer


def _token_user(key: str) -> Any:
    token = Token.objects.select_related("user").filter(key=key).first()
    return token.user if token is not None and token.user.is_active else AnonymousUser()


def _token_key(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"authorization":
            scheme, _, key = value.decode("latin-1").partition(" ")
            return key.strip() if scheme.lower() == "token" and key.strip() else None
    return None


class TokenAuthMiddleware(BaseMiddleware):  # type: ignore[misc]
    """Sets scope["user"] from an `Authorization: Token <key>` header when the session gave nobody."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        scope = dict(scope)
        user = scope.get("user")
        if (user is None or not user.is_authenticated) and (key := _token_key(scope)):
            scope["user"] = await database_sync_to_async(_token_user)(key)
        return await self.inner(scope, receive, send)


websocket_urlpatterns: list[Any] = [
    path("ws/floors/<int:floor_id>/", TokenAuthMiddleware(FloorConsumer.as_asgi())),
    path("ws/alerts/", TokenAuthMiddleware(AlertConsumer.as_asgi())),
]
