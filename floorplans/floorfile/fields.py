"""Typed reads of JSON values that record a FeatureError instead of raising."""

from __future__ import annotations

import math
from typing import Any

from floorplans.floorfile.errors import FeatureError

_MISSING = object()


class FieldReader:
    """Reads fields of one JSON object (a feature's properties or a header part) into `errors`."""

    def __init__(self, data: Any, *, errors: list[FeatureError], index: int | None, where: str = "") -> None:
        self.data: dict[str, Any] = data if isinstance(data, dict) else {}
        self.errors = errors
        self.index = index
        self.where = where
        self.code: str | None = None

    def fail(self, reason: str) -> None:
        self.errors.append(FeatureError(self.index, self.code, reason))

    def _get(self, key: str, required: bool) -> Any:
        value = self.data.get(key, _MISSING)
        if value is _MISSING or value is None or value == "":
            if required:
                self.fail(f"missing field '{self.where}{key}'")
            return _MISSING
        return value

    def text(self, key: str, *, required: bool = True, default: str = "") -> str:
        value = self._get(key, required)
        if value is _MISSING:
            return default
        if not isinstance(value, str):
            self.fail(f"'{self.where}{key}' must be text, got {value!r}")
            return default
        return value.strip()

    def number(
        self, key: str, *, required: bool = True, default: float | None = None,
        low: float = -math.inf, high: float = math.inf,
    ) -> float | None:
        value = self._get(key, required)
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.fail(f"'{self.where}{key}' must be a finite number, got {value!r}")
            return default
        if not low <= value <= high:
            self.fail(f"'{self.where}{key}' = {value} is outside {low}..{high}")
            return default
        return float(value)

    def integer(self, key: str, *, required: bool = True, default: int | None = None) -> int | None:
        value = self._get(key, required)
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"'{self.where}{key}' must be a whole number, got {value!r}")
            return default
        return value

    def boolean(self, key: str, *, default: bool) -> bool:
        value = self._get(key, False)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.fail(f"'{self.where}{key}' must be true or false, got {value!r}")
            return default
        return value

    def choice(self, key: str, choices: frozenset[str], *, what: str) -> str:
        value = self.text(key)
        if value and value not in choices:
            self.fail(f"unknown {what} {value!r}; expected one of {', '.join(sorted(choices))}")
            return ""
        return value

    def obj(self, key: str, *, required: bool = False) -> dict[str, Any] | None:
        value = self._get(key, required)
        if value is _MISSING:
            return None
        if not isinstance(value, dict):
            self.fail(f"'{self.where}{key}' must be an object, got {type(value).__name__}")
            return None
        return value

    def array(self, key: str) -> list[Any]:
        value = self._get(key, False)
        if value is _MISSING:
            return []
        if not isinstance(value, list):
            self.fail(f"'{self.where}{key}' must be a list, got {type(value).__name__}")
            return []
        return value
