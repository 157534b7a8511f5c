"""Errors the alert services raise; the API turns them into clear 409 answers."""

from __future__ import annotations


class InvalidAlertTransition(ValueError):
    """A lifecycle move the transition table does not allow, e.g. resolved -> acknowledged."""

    def __init__(self, alert_id: int, from_state: str, to_state: str) -> None:
        self.alert_id, self.from_state, self.to_state = alert_id, from_state, to_state
        super().__init__(f"alert {alert_id} is {from_state}; it cannot become {to_state}")


class UnknownAudience(ValueError):
    """An audience name that is not in alerts.audiences.AUDIENCES."""
