"""Alert test helpers: a fixed clock origin, a raise with defaults, and a capture of what is announced."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest
from django.db import connection

from alerts import broadcast
from alerts.models import Alert, EscalationPolicy
from alerts.services import alert_raise

T0 = datetime(2025, 3, 4, 10, 0, 0, tzinfo=UTC)

Raise = Callable[..., Alert]


@pytest.fixture
def raise_alert(db: None) -> Raise:
    """alert_raise with sensible defaults; any argument may be overridden."""

    def _raise(**overrides: Any) -> Alert:
        arguments: dict[str, Any] = {
            "kind": "infusion.wrong_patient", "severity": Alert.Severity.HIGH, "key": "infusion.wrong_patient:bag=17",
            "title": "Bag 17 at the wrong bed", "subject_type": Alert.Subject.BAG, "subject_id": "17",
            "audience": "nurses", "at": T0,
        }
        return alert_raise(**(arguments | overrides))

    return _raise


@pytest.fixture
def no_policies(db: None) -> None:
    """Start without the seeded default policies (tests add exactly the ones they mean)."""
    EscalationPolicy.objects.all().delete()


class Sent:
    """What was broadcast after commit: (groups, message) pairs. The test's transaction never commits, so
    reading runs the on-commit callbacks registered so far (a rolled-back savepoint has dropped its own)."""

    def __init__(self) -> None:
        self._calls: list[tuple[list[str], dict[str, Any]]] = []
        self._start = len(connection.run_on_commit)
        self._ran = 0

    def record(self, groups: list[str], text: str) -> None:
        self._calls.append((groups, json.loads(text)))

    @property
    def calls(self) -> list[tuple[list[str], dict[str, Any]]]:
        pending = connection.run_on_commit[self._start + self._ran:]
        self._ran += len(pending)
        for entry in pending:  # (savepoint ids, callback, robust)
            entry[1]()
        return self._calls

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [message for _, message in self.calls]

    def actions(self) -> list[str]:
        return [message["action"] for message in self.messages]


@pytest.fixture
def sent(db: None) -> Iterator[Sent]:
    """Records the alert broadcasts (instead of sending them to Redis)."""
    capture = Sent()
    with mock.patch.object(broadcast, "_send", side_effect=capture.record):
        yield capture
