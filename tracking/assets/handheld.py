"""Handheld sweeps fed by a mobile reader: the reader's real adapter, run by the sweep, its reads to the audit.

A running handheld audit with a reader code gets one `HandheldSweep` somewhere: the process that holds its
Redis lease ("hospital_iot:assets:sweep:<audit id>", SET NX PX, renewed every second) runs the adapter
(readers.adapters, e.g. LlrpAdapter over LLRP/TCP) in a thread and hands each batch of reads to
tracking.assets.audits.handheld_reads_record. Nothing else sees those reads: mobile readers are not run by
run_readers / run_rtls and are no receivers of the location pipeline (tracking.assets.mobile_readers), so
a sweep never moves a tag on the map.

Who runs sweeps: the periodic job `handheld_sweeps_sync` (registered as "assets.handheld"; it runs in
`run_rtls` / `run_alerts`) starts one for each running sweep that no live process holds, and `manage.py
audit_assets --handheld` runs one in the foreground. A sweep stops itself within a second of its audit
being finished or cancelled (from the page, the API or another process), or when it loses its lease.
Its state (connected, reads, last error) is kept in Redis for the progress page: `sweep_status`.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from readers.adapters.base import ReaderAdapter, ReaderError, ReaderSettings, adapter_for
from readers.drops import DropCounter
from tracking.assets.audit_exceptions import AuditNotRunning, MobileReaderInvalid
from tracking.assets.audits import ReadsRecorded, handheld_reads_record
from tracking.assets.mobile_readers import mobile_reader_get, mobile_reader_settings
from tracking.models import Audit

logger = logging.getLogger(__name__)

LEASE_KEY: Final = "hospital_iot:assets:sweep:{audit_id}"
STATUS_KEY: Final = "hospital_iot:assets:sweep:{audit_id}:status"
LEASE_TTL_S: Final = 10.0
CHECK_EVERY_S: Final = 1.0
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"

Record = Callable[..., ReadsRecorded]


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def _owner() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{threading.get_ident()}"


class HandheldSweep:
    """One sweep: the reader's adapter in a thread (reads -> the audit) and a keeper thread (lease, audit state,
    status). `start()` is False when another process holds the sweep."""

    def __init__(self, *, audit_id: int, reader: ReaderSettings, client: redis.Redis,
                 adapter: type[ReaderAdapter] | None = None, record: Record = handheld_reads_record,
                 check_every_s: float = CHECK_EVERY_S, lease_ttl_s: float = LEASE_TTL_S) -> None:
        self.audit_id, self.reader, self.client = audit_id, reader, client
        self.adapter_class = adapter or adapter_for(reader.protocol)
        self.record, self.check_every_s, self.lease_ttl_ms = record, check_every_s, int(lease_ttl_s * 1000)
        self.owner = _owner()
        self.drops = DropCounter()
        self.adapter: ReaderAdapter | None = None
        self.reads = self.batches = self.found = 0
        self.error = ""
        self._dropped_before = 0  # the adapter's drops already handed to the audit
        self._stopping = threading.Event()
        self._ended = threading.Event()
        self._threads: list[threading.Thread] = []
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    @property
    def lease_key(self) -> str:
        return LEASE_KEY.format(audit_id=self.audit_id)

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    @property
    def connected(self) -> bool:
        return self.adapter is not None and self.adapter.connected.is_set()

    def start(self) -> bool:
        if not self.client.set(self.lease_key, self.owner, nx=True, px=self.lease_ttl_ms):
            return False
        for target, name in ((self._consume, "reads"), (self._keep, "keeper")):
            thread = threading.Thread(target=target, name=f"sweep-{self.audit_id}-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        logger.info("sweep of audit %s: reading %s at %s", self.audit_id, self.reader.code, self.reader.address)
        return True

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stopping.set()
        if self.adapter is not None:
            self.adapter.stop()
        for thread in self._threads:
            thread.join(timeout_s)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait until the sweep ended (audit finished or cancelled, lease lost, adapter failed for good) and
        its threads are done: the keeper writes the last status and gives the lease back after the reads end."""
        if not self._ended.wait(timeout_s):
            return False
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout_s)
        return not any(thread.is_alive() for thread in self._threads)

    def _consume(self) -> None:
        try:
            self.adapter = self.adapter_class(self.reader, drops=self.drops)
            if self._stopping.is_set():
                return
            for batch in self.adapter.batches():
                dropped = self.drops.total() - self._dropped_before
                self._dropped_before += dropped
                result = self.record(audit_id=self.audit_id, reads=batch, dropped=dropped)
                self.reads += result.reads
                self.found += result.found
                self.batches += 1
        except AuditNotRunning:
            logger.info("sweep of audit %s: the audit ended", self.audit_id)
        except ReaderError as exc:
            self.error = str(exc)
            logger.error("sweep of audit %s: reader %s: %s", self.audit_id, self.reader.code, exc)
        except DatabaseError as exc:
            self.error = f"database: {exc}"
            logger.exception("sweep of audit %s: could not record reads", self.audit_id)
        finally:
            self._stopping.set()
            connection.close()  # this thread's own connection
            self._ended.set()
            if self.adapter is not None:
                self.adapter.stop()

    def _keep(self) -> None:
        """Every check_every_s: renew the lease, publish the status, stop when the audit is no longer running."""
        try:
            while not self._ended.wait(self.check_every_s):
                held = self._renew(keys=[self.lease_key], args=[self.owner, self.lease_ttl_ms])
                state = Audit.objects.filter(pk=self.audit_id).values_list("state", flat=True).first()
                self._publish()
                if not held or state != Audit.State.RUNNING:
                    logger.info("sweep of audit %s: stopping (%s)", self.audit_id,
                                "lease lost" if not held else f"audit {state or 'deleted'}")
                    self._stopping.set()
                    if self.adapter is not None:
                        self.adapter.stop()
                    break
        except (DatabaseError, redis.RedisError):
            logger.exception("sweep of audit %s: keeper failed; stopping", self.audit_id)
            self._stopping.set()
            if self.adapter is not None:
                self.adapter.stop()
        finally:
            self._ended.wait(5.0)
            self._publish()
            self._release(keys=[self.lease_key], args=[self.owner])
            connection.close()

    def _publish(self) -> None:
        sweep_status_write(self.client, self.audit_id, {
            "reader": self.reader.code, "running": not self.ended, "connected": self.connected, "reads": self.reads,
            "batches": self.batches, "error": self.error, "owner": self.owner,
            "updated_at": timezone.now().isoformat(),
        })


def sweep_status_write(client: redis.Redis, audit_id: int, status: dict[str, Any]) -> None:
    client.set(STATUS_KEY.format(audit_id=audit_id), json.dumps(status), ex=3600)


def sweep_status(audit_id: int, *, client: redis.Redis | None = None) -> dict[str, Any] | None:
    """What the sweep of this audit last said about itself (None: no process has run it)."""
    try:
        raw: Any = (client or redis_client()).get(STATUS_KEY.format(audit_id=audit_id))
    except redis.RedisError as exc:
        return {"running": False, "connected": False, "error": f"status unavailable: {exc}"}
    return json.loads(raw) if raw else None


# ------------------------------------------------------------------------------------- the periodic job

_sweeps: dict[int, HandheldSweep] = {}
_sweeps_lock = threading.Lock()


def handheld_sweeps_sync(now: datetime | None = None, *, client: redis.Redis | None = None) -> list[int]:
    """Start a sweep for every running handheld audit with a reader that no process runs; forget ended ones.
    Returns the audit ids this process sweeps now."""
    client = client or redis_client()
    running = dict(Audit.objects.filter(kind=Audit.Kind.HANDHELD, state=Audit.State.RUNNING).exclude(reader="")
                   .values_list("pk", "reader"))
    with _sweeps_lock:
        for audit_id in [a for a, sweep in _sweeps.items() if sweep.ended]:
            del _sweeps[audit_id]
        for audit_id, code in sorted(running.items()):
            if audit_id in _sweeps or client.exists(LEASE_KEY.format(audit_id=audit_id)):
                continue
            try:
                reader = mobile_reader_settings(mobile_reader_get(code))
            except MobileReaderInvalid as exc:
                sweep_status_write(client, audit_id, {"reader": code, "running": False, "connected": False,
                                                      "error": str(exc)})
                continue
            sweep = HandheldSweep(audit_id=audit_id, reader=reader, client=client)
            if sweep.start():
                _sweeps[audit_id] = sweep
        return sorted(_sweeps)


def handheld_sweeps_stop(timeout_s: float = 5.0) -> None:
    """Stop every sweep this process runs (tests, shutdown)."""
    with _sweeps_lock:
        sweeps = list(_sweeps.values())
        _sweeps.clear()
    for sweep in sweeps:
        sweep.stop(timeout_s)


def register_periodic(every_s: float = 1.0) -> None:
    """Run handheld_sweeps_sync with the other periodic jobs (call from an AppConfig.ready)."""
    from alerts.periodic import register

    register("assets.handheld", every_s, handheld_sweeps_sync)
