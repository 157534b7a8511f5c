"""Alert pages (the alert list)."""

from __future__ import annotations

from typing import Any

urlpatterns: list[Any] = []
