"""Infant-protection rules on the pipeline's events (filled in by the rules work)."""

from __future__ import annotations


def subscribe_all() -> None:
    """Subscribe the security rules to the pipeline's domain events and register their timers."""
