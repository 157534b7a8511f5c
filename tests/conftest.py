"""Shared fixtures: the fixed personas (one per role), API clients, floor files."""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from accounts import roles
from accounts.services import user_create_with_role
from floorplans.models import Floor
from floorplans.services import floor_file_check, floor_import

FIXTURES = Path(__file__).parent / "fixtures"

LoadFixture = Callable[[str], Any]

# the data migrations ship (module, seeding function): escalation policies, asset status rules and forbidden zones
SHIPPED_DATA = (("alerts.migrations.0002_default_policies", "add_defaults"),
                ("security.migrations.0002_policies", "add_policies"),
                ("security.migrations.0004_egress_release_policy", "add_policy"),
                ("tracking.migrations.0009_asset_rule_defaults", "add_defaults"))


@pytest.fixture
def shipped_data(db: None) -> None:
    """What the data migrations ship, on file for the tests that judge it: a transactional test elsewhere in
    the suite empties every table (migration data included) when it ends. Each seed is get_or_create: a no-op
    where the rows are still there."""
    for module, seed in SHIPPED_DATA:
        getattr(importlib.import_module(module), seed)(apps, None)


@pytest.fixture
def load_fixture() -> LoadFixture:
    def load(name: str) -> Any:
        return json.loads((FIXTURES / name).read_text(encoding="utf-8"))

    return load


@pytest.fixture
def floor_doc(load_fixture: LoadFixture) -> dict[str, Any]:
    """A small valid floor file (3 North test ward): a fresh deep copy each time, safe to break."""
    return copy.deepcopy(load_fixture("floors/small_ward.geojson"))


@pytest.fixture
def floor(db: None, floor_doc: dict[str, Any]) -> Floor:
    """The small test floor imported into the real PostGIS."""
    return floor_import(floor_file=floor_file_check(floor_doc)).floor


def _persona(username: str, role: str) -> User:
    return user_create_with_role(username=username, role=role, password=f"pw-{username}")


@pytest.fixture
def nurse(db: None) -> User:
    return _persona("nurse", roles.NURSE)


@pytest.fixture
def charge_nurse(db: None) -> User:
    return _persona("charge_nurse", roles.CHARGE_NURSE)


@pytest.fixture
def biomed(db: None) -> User:
    return _persona("biomed", roles.BIOMED)


@pytest.fixture
def security_officer(db: None) -> User:
    return _persona("security_officer", roles.SECURITY)


@pytest.fixture
def administrator(db: None) -> User:
    return _persona("administrator", roles.ADMINISTRATOR)


@pytest.fixture
def visitor(db: None) -> User:
    """Logged in but holding no role."""
    return User.objects.create_user("visitor", password="pw-visitor")


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """PBKDF2 is slow on purpose; tests log in many times and do not need it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
