"""Every adapter module, imported once so each registers its protocol (see base.register)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from readers.adapters.base import ADAPTERS, ReaderAdapter

ADAPTER_MODULES = (
    "rfid_llrp",
    "ble_espresense", "ble_omg", "ble_minew", "ble_ingics", "ble_aprilbrother", "ble_kontakt",
    "uwb_dwm1001", "uwb_mqtt",
)

# protocols whose one adapter serves every reader of that protocol on the same MQTT topic filter
MQTT_PROTOCOLS = frozenset(name for name in ADAPTER_MODULES if name.startswith("ble_")) | {"uwb_mqtt"}


def load_adapters() -> Mapping[str, type[ReaderAdapter]]:
    for name in ADAPTER_MODULES:
        importlib.import_module(f"readers.adapters.{name}")
    return dict(ADAPTERS)
