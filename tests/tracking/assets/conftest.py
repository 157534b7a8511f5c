"""The default rules and forbidden zones that migration tracking 0009 ships, on file for the tests that use
them: a transactional test elsewhere in the suite empties every table (migration data included) when it ends."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps


@pytest.fixture
def asset_rule_defaults(db: None) -> None:
    migration = importlib.import_module("tracking.migrations.0009_asset_rule_defaults")
    migration.add_defaults(apps, None)  # get_or_create: a no-op where they are still there
