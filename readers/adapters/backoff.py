"""Reconnect delays: exponential backoff with full jitter, capped (shared by every adapter)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """delay_n = uniform(0, min(cap_s, base_s * 2**n)); reset() after a connection that worked."""

    base_s: float = 0.5
    cap_s: float = 30.0
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    attempt: int = 0

    def next_delay_s(self) -> float:
        ceiling = min(self.cap_s, self.base_s * 2**self.attempt)
        self.attempt += 1
        return self.rng.uniform(ceiling / 2, ceiling)  # half-jitter: never a tight loop

    def reset(self) -> None:
        self.attempt = 0
