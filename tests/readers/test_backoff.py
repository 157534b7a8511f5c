from __future__ import annotations

import random

from readers.adapters.backoff import Backoff


def test_it_doubles_the_delay_up_to_the_cap_and_starts_over_after_reset() -> None:
    backoff = Backoff(base_s=0.5, cap_s=4.0, rng=random.Random(1))
    delays = [backoff.next_delay_s() for _ in range(6)]
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    backoff.reset()
    assert backoff.next_delay_s() <= 0.5
