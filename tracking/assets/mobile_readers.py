"""Mobile (handheld) RFID readers: Reader rows marked `options["mobile"] = true`.

A handheld's reads say "this tag is near the person holding the reader", not "this tag is at the reader's
installed position", so they must never reach the location pipeline (they would move tags to wherever the
Reader row's floor and antennas are). The seam: such readers are left out of what `run_readers` / `run_rtls`
supervise (readers.selectors.adapter_specs, with `fixed_readers_q()`) and out of the pipeline's receivers
(tracking.pipeline.config.rtls_config_load); a handheld audit session runs the reader's real adapter itself
(tracking.assets.handheld) and its reads go to that audit only.
"""

from __future__ import annotations

from typing import Final

from django.db.models import Q, QuerySet

from readers.adapters.base import ReaderSettings
from readers.adapters.registry import MQTT_PROTOCOLS, load_adapters
from readers.models import Reader
from tracking.assets.audit_exceptions import MobileReaderInvalid

MOBILE_OPTION: Final = "mobile"


def mobile_q() -> Q:
    """Reader rows marked mobile."""
    return Q(options__contains={MOBILE_OPTION: True})  # never NULL, so its negation keeps unmarked rows


def fixed_readers_q() -> Q:
    """Reader rows that are installed somewhere (not mobile): what the location pipeline may use."""
    return ~mobile_q()


def mobile_readers() -> QuerySet[Reader]:
    return Reader.objects.filter(mobile_q(), enabled=True).order_by("code")


def mobile_reader_get(code: str) -> Reader:
    """The enabled mobile reader of this code, with an adapter for its protocol; else MobileReaderInvalid."""
    reader = Reader.objects.filter(code=code).prefetch_related("antennas").first()
    if reader is None:
        raise MobileReaderInvalid(f"no reader {code!r}")
    if not reader.options.get(MOBILE_OPTION):
        raise MobileReaderInvalid(f"reader {code} is an installed reader; a handheld sweep needs one marked mobile "
                                  f'(options {{"{MOBILE_OPTION}": true}})')
    if not reader.enabled:
        raise MobileReaderInvalid(f"reader {code} is disabled")
    if reader.protocol not in load_adapters():
        raise MobileReaderInvalid(f"reader {code}: no adapter for protocol {reader.protocol!r}")
    if reader.protocol in MQTT_PROTOCOLS:
        raise MobileReaderInvalid(f"reader {code}: a handheld sweep connects to one reader; {reader.protocol} "
                                  "gateways share an MQTT subscription")
    return reader


def mobile_reader_settings(reader: Reader) -> ReaderSettings:
    """What the reader's adapter needs (its options without our `mobile` mark)."""
    options = {k: v for k, v in reader.options.items() if k != MOBILE_OPTION}
    ports = tuple(sorted(antenna.port for antenna in reader.antennas.all()))
    return ReaderSettings(code=reader.code, protocol=reader.protocol, address=reader.address, topic=reader.topic,
                          antennas=ports, options=options)
