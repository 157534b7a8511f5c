"""manage.py run_adt: the HL7 ADT feed over MLLP, until Ctrl-C or SIGTERM.

    run_adt                               listen on 127.0.0.1:2575
    run_adt --host 0.0.0.0 --port 2575    listen for the hospital's interface engine

Each message is applied (infusion.services.adt_apply), logged in AdtMessage and acknowledged (AA, AE
or AR). A one-line status is written every --status-every seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from infusion.mllp import DEFAULT_PORT, MllpLimits, MllpServer, adt_handler


class Command(BaseCommand):
    help = "Receive HL7 v2 ADT messages over MLLP (admit, transfer, discharge, update) and acknowledge them."

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = MllpLimits()
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port (0: any free port)")
        parser.add_argument("--max-frame-bytes", type=int, default=defaults.max_frame_bytes,
                            help="a longer message is refused with AR")
        parser.add_argument("--frame-timeout", type=float, default=defaults.frame_timeout_s,
                            help="seconds a begun message may take to arrive before the connection is dropped")
        parser.add_argument("--max-connections", type=int, default=defaults.max_connections)
        parser.add_argument("--workers", type=int, default=defaults.workers, help="threads applying messages")
        parser.add_argument("--status-every", type=float, default=60.0, help="seconds between status lines")
        parser.add_argument("--run-for", type=float, default=0.0, help="stop after this many seconds (0: run on)")

    def handle(self, *args: Any, **options: Any) -> None:
        limits = MllpLimits(max_frame_bytes=options["max_frame_bytes"], frame_timeout_s=options["frame_timeout"],
                            max_connections=options["max_connections"], workers=options["workers"])
        server = MllpServer(adt_handler, host=options["host"], port=options["port"], limits=limits)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(self._serve(server, options["status_every"], options["run_for"]))
        self.stdout.write(server.stats.line())
        self.stdout.write("run_adt stopped")

    async def _serve(self, server: MllpServer, status_every_s: float, run_for_s: float) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
        await server.start()
        self.stdout.write(f"run_adt: MLLP on {server.host}:{server.port}; Ctrl-C stops")
        deadline = loop.time() + run_for_s if run_for_s else math.inf
        next_status = loop.time() + status_every_s
        try:
            while not stop.is_set() and loop.time() < deadline:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), max(0.0, min(next_status, deadline) - loop.time()))
                if loop.time() >= next_status:
                    next_status += status_every_s
                    self.stdout.write(server.stats.line())
        finally:
            await server.close()
