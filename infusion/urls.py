"""Infusion pages: the ward infusion board, bag timelines, admit/transfer."""

from __future__ import annotations

from typing import Any

urlpatterns: list[Any] = []
