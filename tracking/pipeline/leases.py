"""Which locate worker owns which floor: Redis leases (SET NX PX, renewed while the worker lives).

A floor is owned by at most one worker at a time, so all reads of a floor meet the same filter state.
A worker that dies stops renewing; its leases expire after ttl_s and the other workers take its floors.
Workers announce themselves with a heartbeat key; each takes at most its fair share of the floors,
ceil(floors / live workers), and gives back what it holds beyond that, so floors spread out as workers
come and go. No home-made consensus: a lease is one Redis key whose value names its owner.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import Any

import redis

logger = logging.getLogger(__name__)

LEASE_KEY = "hospital_iot:rtls:lease:floor:{floor_id}"
WORKER_KEY = "hospital_iot:rtls:worker:{worker}"

# renew (PEXPIRE) or release (DEL) a key only while it still names us
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class FloorLeases:
    def __init__(self, client: redis.Redis, *, worker: str, ttl_s: float = 10.0) -> None:
        self.client, self.worker, self.ttl_ms = client, worker, int(ttl_s * 1000)
        self.held: set[int] = set()
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def maintain(self, floors: Iterable[int]) -> tuple[set[int], set[int], set[int]]:
        """Renew, take and give back leases: returns (acquired, lost, surplus). Lost floors are gone
        already; surplus floors are still held, for the worker to hand over with `release` once it has
        committed their reads."""
        wanted = sorted(set(floors))
        self.client.set(WORKER_KEY.format(worker=self.worker), "1", px=self.ttl_ms)
        lost = {f for f in self.held if f not in wanted or not self._renew(keys=[_key(f)], args=[self.worker,
                                                                                                  self.ttl_ms])}
        self.held -= lost
        share = math.ceil(len(wanted) / max(self.live_workers(), 1))
        acquired = set()
        for floor_id in wanted:
            if len(self.held) >= share:
                break
            if floor_id not in self.held and self.client.set(_key(floor_id), self.worker, nx=True, px=self.ttl_ms):
                self.held.add(floor_id)
                acquired.add(floor_id)
        surplus = set(sorted(self.held)[share:]) if len(self.held) > share else set()
        return acquired, lost, surplus

    def holds(self, floor_id: int) -> bool:
        """Whether the lease still names this worker (checked before a window's write)."""
        owner: Any = self.client.get(_key(floor_id))
        return owner is not None and (owner.decode() if isinstance(owner, bytes) else str(owner)) == self.worker

    def release(self, floor_ids: Iterable[int]) -> None:
        for floor_id in floor_ids:
            self._release(keys=[_key(floor_id)], args=[self.worker])
            self.held.discard(floor_id)

    def release_all(self) -> None:
        self.release(list(self.held))
        self.client.delete(WORKER_KEY.format(worker=self.worker))

    def live_workers(self) -> int:
        return sum(1 for _ in self.client.scan_iter(WORKER_KEY.format(worker="*"), count=100))


def _key(floor_id: int) -> str:
    return LEASE_KEY.format(floor_id=floor_id)
