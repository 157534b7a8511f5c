"""The reader-offline condition as an alert: readers.services announces online/offline changes to its
listeners after the health row committed; AlertsConfig.ready adds this one."""

from __future__ import annotations

import logging

from alerts.audiences import BIOMED
from alerts.models import Alert
from alerts.services import alert_condition_clear, alert_raise
from readers.health import OFFLINE, HealthChange
from readers.models import Reader

logger = logging.getLogger(__name__)

KIND = "readers.offline"


def reader_offline_key(reader_id: str) -> str:
    return f"{KIND}:reader={reader_id}"


def reader_condition_changed(change: HealthChange) -> None:
    """Offline -> raise (biomedical engineering, warning); online again -> cleared and resolved."""
    key = reader_offline_key(change.reader_id)
    if change.state != OFFLINE:
        alert_condition_clear(key=key, note="reader back online", at=change.at, resolve=True)
        return
    reader = Reader.objects.filter(code=change.reader_id).first()
    name = reader.name if reader is not None else change.reader_id
    last = change.last_read_at.isoformat(timespec="seconds") if change.last_read_at else "never"
    alert_raise(
        kind=KIND, severity=Alert.Severity.WARNING, key=key, title=f"Reader {name} is offline",
        message=f"No reads from {change.reader_id} since {last}.", subject_type=Alert.Subject.READER,
        subject_id=change.reader_id, subject_label=name, audience=BIOMED,
        floor_id=reader.floor_id if reader is not None else None,
        x_m=reader.position.x if reader is not None else None, y_m=reader.position.y if reader is not None else None,
        data={"last_read_at": last}, at=change.at,
    )
