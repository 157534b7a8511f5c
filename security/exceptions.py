"""Errors the infant-protection services raise; views turn them into 400/409 answers with the message."""

from __future__ import annotations


class SecurityRefused(Exception):
    """An action refused, with a sentence a nurse or an officer understands as its message
    ("A second person must confirm this discharge: you requested it.")."""
