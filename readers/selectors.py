"""Reads for readers: what `run_readers` should run, built from the enabled Reader rows."""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings

from readers.adapters.base import ReaderSettings
from readers.adapters.registry import MQTT_PROTOCOLS, load_adapters
from readers.models import Reader
from readers.supervisor import AdapterSpec


def adapter_specs() -> tuple[list[AdapterSpec], list[str]]:
    """One spec per TCP/serial reader, and one per (protocol, topic) for MQTT gateways and anchors.

    Returns the specs and a list of problems (readers skipped, with the reason) for the operator.
    """
    adapters = load_adapters()
    # a handheld reader (options {"mobile": true}) is run by its audit session (tracking.assets.handheld),
    # never here: its reads say where the person holding it is, and must not locate tags
    readers = list(Reader.objects.filter(enabled=True).exclude(options__contains={"mobile": True})
                   .prefetch_related("antennas").order_by("code"))
    specs: list[AdapterSpec] = []
    problems: list[str] = []
    groups: dict[tuple[str, str], list[Reader]] = defaultdict(list)
    for reader in readers:
        if reader.protocol not in adapters:
            problems.append(f"{reader.code}: no adapter for protocol {reader.protocol!r}")
        elif reader.protocol in MQTT_PROTOCOLS:
            groups[(reader.protocol, reader.topic)].append(reader)
        else:
            ports = tuple(sorted(antenna.port for antenna in reader.antennas.all()))
            settings_ = ReaderSettings(code=reader.code, protocol=reader.protocol, address=reader.address,
                                       topic=reader.topic, antennas=ports, options=dict(reader.options))
            specs.append(AdapterSpec(adapters[reader.protocol], settings_, (reader.code,)))
    for (protocol, topic), members in sorted(groups.items()):
        specs.append(AdapterSpec(adapters[protocol], _mqtt_settings(protocol, topic, members),
                                 tuple(r.code for r in members)))
    return specs, problems


def _mqtt_settings(protocol: str, topic: str, members: list[Reader]) -> ReaderSettings:
    """One MQTT subscription for every reader of a protocol on one topic filter, with the table that
    maps what each payload names (gateway MAC, room, anchor id) to our reader codes."""
    table = {reader.hardware_id or reader.code: reader.code for reader in members}
    options: dict[str, object] = {"mqtt_host": settings.MQTT_HOST, "mqtt_port": settings.MQTT_PORT}
    for reader in members:
        options.update(reader.options)
    options["anchors" if protocol == "uwb_mqtt" else "gateways"] = table
    return ReaderSettings(code=f"{protocol}:{topic or 'default'}", protocol=protocol,
                          address=f"{settings.MQTT_HOST}:{settings.MQTT_PORT}", topic=topic, options=options)
