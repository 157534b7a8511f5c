"""The pipeline's tests see only the event handlers they subscribe themselves: the workflow apps subscribe
theirs at start-up (infusion's rules read the database), which these tests are not about."""

from __future__ import annotations

import pytest

from tracking.pipeline import events


@pytest.fixture(autouse=True)
def no_app_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "_handlers", {})
