"""The demo hospital's people: one login per role (passwords printed by `make run`)."""

from __future__ import annotations

from typing import Final, TypedDict

from accounts.roles import (
    ADMINISTRATOR,
    BIOMED,
    CHARGE_NURSE,
    INTEGRATION,
    NURSE,
    PHARMACIST,
    ROLE_LABELS,
    SECURITY,
)


class DemoLogin(TypedDict):
    username: str
    role: str
    label: str
    password: str
    first_name: str
    last_name: str


def _login(username: str, role: str, first_name: str, last_name: str) -> DemoLogin:
    return DemoLogin(username=username, role=role, label=ROLE_LABELS[role], password=f"demo-{username}",
                     first_name=first_name, last_name=last_name)


DEMO_LOGINS: Final[list[DemoLogin]] = [
    _login("nurse", NURSE, "Nina", "Okafor"),
    _login("charge_nurse", CHARGE_NURSE, "Carla", "Mendes"),
    _login("pharmacist", PHARMACIST, "Priya", "Raman"),
    _login("biomed", BIOMED, "Ben", "Adeyemi"),
    _login("security", SECURITY, "Sam", "Kowalski"),
    _login("admin", ADMINISTRATOR, "Alex", "Morgan"),
]

# a machine account: no password, an API token (printed by load_demo)
DEMO_MACHINE: Final = {"username": "nurse-call", "role": INTEGRATION}
