"""The small base every adapter shares, and the registry that finds an adapter by protocol name."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from readers.drops import DropCounter
from readers.reads import TagRead, Tech, utc_now


class ReaderError(Exception):
    """An adapter cannot talk to its reader. `permanent` errors (bad address, refused config) are not
    retried; the others are, with backoff."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class ReaderSettings:
    """What an adapter needs to know about its reader (from the Reader row, no Django object)."""

    code: str
    protocol: str
    address: str = ""  # host:port
    topic: str = ""  # MQTT topic
    antennas: tuple[int, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)  # protocol-specific (tx power, report every N ...)


Alive = Callable[[Collection[str]], None]  # reader ids that showed they are up without delivering a read


def _nobody_listens(_reader_ids: Collection[str]) -> None:
    pass


class ReaderAdapter(ABC):
    """Connects to one reader and yields batches of TagReads until stopped.

    Subclasses set `protocol` and `tech` and implement `batches()`; they must return from it soon
    after `stop()` is called, and record every dropped payload in `self.drops`.
    """

    protocol: ClassVar[str]
    tech: ClassVar[Tech]

    def __init__(
        self, settings: ReaderSettings, *, drops: DropCounter | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.drops = drops or DropCounter()
        self.clock = clock
        self.stopping = threading.Event()
        # set while the adapter holds a working link to its reader (an LLRP reader inventorying, a serial
        # port open): the reader is online even when no tag is in its field. Adapters that share an MQTT
        # connection among gateways leave it unset; a gateway shows it is alive by its reads, or, when it
        # heard no tag, by its idle upload or telemetry, which the adapter passes to `alive`.
        self.connected = threading.Event()
        # told the readers heard from without a read; the supervisor sets it to reader health's `alive`
        self.alive: Alive = _nobody_listens

    @abstractmethod
    def batches(self) -> Iterator[list[TagRead]]:
        """Yield lists of reads as they arrive; reconnect on transient errors; end after stop()."""

    def stop(self) -> None:
        self.stopping.set()


ADAPTERS: dict[str, type[ReaderAdapter]] = {}

A = TypeVar("A", bound=type[ReaderAdapter])


def register(cls: A) -> A:
    """Class decorator: make the adapter available under its protocol name."""
    if cls.protocol in ADAPTERS and ADAPTERS[cls.protocol] is not cls:
        raise ValueError(f"protocol {cls.protocol!r} registered twice")
    ADAPTERS[cls.protocol] = cls
    return cls


def adapter_for(protocol: str) -> type[ReaderAdapter]:
    if protocol not in ADAPTERS:
        raise ReaderError(f"no adapter for protocol {protocol!r}; known: {', '.join(sorted(ADAPTERS))}", permanent=True)
    return ADAPTERS[protocol]
