"""Fixtures shared by the infant-protection rule tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from security import rules
from security.selectors import armed_invalidate
from tests.security.test_rules_helpers import Maternity, maternity_setup


@pytest.fixture
def rules_fresh() -> Iterator[None]:
    """The rules' in-process state and the armed-band caches empty before and after the test."""
    rules.reset()
    armed_invalidate()
    yield
    rules.reset()
    armed_invalidate()


@pytest.fixture
def m() -> Maternity:
    """The maternity test ward, its door controllers on a topic of their own (no running demo hears them)."""
    return maternity_setup(topic_prefix=f"test-{uuid.uuid4().hex[:8]}/doors")
