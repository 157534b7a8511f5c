"""Every model change has its migration (a missing one would only show on someone else's database)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_the_migrations_match_the_models() -> None:
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)  # exits non-zero if a migration is missing
    assert "No changes detected" in out.getvalue()
