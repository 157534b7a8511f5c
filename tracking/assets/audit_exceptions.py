"""What the audit services refuse, with a reason a person can act on."""

from __future__ import annotations


class AuditError(Exception):
    """Base of the audit errors: the message is shown as it is (API 400/409, page message, command error)."""


class AuditScopeInvalid(AuditError):
    """No department or zones, an unknown one, or thresholds that make no sense."""


class AuditNotRunning(AuditError):
    """Reads, finish or cancel for an audit that is finished or cancelled (or not a handheld sweep)."""


class MobileReaderInvalid(AuditError):
    """The reader of a handheld sweep is unknown, disabled, not marked mobile, or has no adapter."""


class ReadsFileInvalid(AuditError):
    """An uploaded reads file that cannot be read at all (bad rows inside a good file are counted instead)."""
