"""The escalation policies that migrations ship (alerts 0002, security 0002), on file for the tests that
judge them: a transactional test elsewhere in the suite empties every table, migration data included."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps


@pytest.fixture
def shipped_policies(db: None) -> None:
    for module, seed in (("alerts.migrations.0002_default_policies", "add_defaults"),
                         ("security.migrations.0002_policies", "add_policies")):
        getattr(importlib.import_module(module), seed)(apps, None)  # get_or_create: no-op when still there
