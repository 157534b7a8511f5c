"""/healthz (database, Redis, pipeline workers) and /metrics (Prometheus text 0.0.4), against the real
PostgreSQL and Redis; pipeline workers are stood in for by writing their metrics keys as they do."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import timezone

from floorplans.models import Floor
from readers.models import Reader, ReaderHealth
from tracking.selectors.operations import METRICS_KEY_PREFIX

LE = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
ODD = 'ward "3"\\north\nexit'  # a quote, a backslash and a line feed: all three need escaping


@pytest.fixture
def workers() -> Iterator[redis.Redis]:
    """The Redis the app uses, with no worker metrics keys before or after the test."""
    client = redis.Redis.from_url(settings.REDIS_URL)

    def clear() -> None:
        for key in client.scan_iter(match=f"{METRICS_KEY_PREFIX}*"):
            client.delete(key)

    clear()
    yield client
    clear()
    client.close()


def _publish(client: redis.Redis, worker: str, *, age_s: float = 1.0, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "worker": worker, "updated_at": time.time() - age_s, "reads_total": 120_000, "fixes_total": 9000,
        "windows_total": 600, "frames_total": 1200,
        "window_latency_s": {"le": LE, "counts": [1, 5, 40, 300, 590, 598, 600, 600, 600, 600], "sum": 31.5,
                             "count": 600},
        "read_to_fix_latency_s": {"le": LE, "counts": [0, 0, 10, 100, 5000, 8800, 9000, 9000, 9000, 9000],
                                  "sum": 1234.5, "count": 9000},
        "lag_entries": 12, "lag_s": 0.25, "drops": {"stale": 4, ODD: 1}, "buffered_fixes": 0,
        "waited_fixes_total": 17, "db_up": 1, "floors": [1, 2],
    }
    data.update(overrides)
    client.set(f"{METRICS_KEY_PREFIX}{worker}", json.dumps(data), ex=30)
    return data


# ---- /healthz -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_reports_degraded_with_no_pipeline_worker(client: Client, workers: redis.Redis) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": {"ok": True}, "redis": {"ok": True},
                               "pipeline": {"alive": 0, "workers": []}}


@pytest.mark.django_db
def test_it_reports_ok_while_a_worker_publishes_and_lists_stale_ones(client: Client, workers: redis.Redis) -> None:
    _publish(workers, "rtls-a")
    _publish(workers, "rtls-b", age_s=25)
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["pipeline"]["alive"] == 1
    assert [(w["worker"], w["alive"], w["floors"]) for w in body["pipeline"]["workers"]] == [
        ("rtls-a", True, [1, 2]), ("rtls-b", False, [1, 2])]


@pytest.mark.django_db
def test_it_answers_503_when_redis_is_down(client: Client, settings: Any) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error" and response.json()["redis"] == {"ok": False}
    assert response.json()["database"] == {"ok": True}


@pytest.mark.django_db(transaction=True)
def test_it_answers_503_when_the_database_is_down(client: Client, workers: redis.Redis) -> None:
    connection = connections["default"]
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"
    try:
        response = client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port
    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False} and response.json()["redis"] == {"ok": True}


# ---- /metrics: a small parser of the text format --------------------------------------------------------

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


def _labels(text: str) -> dict[str, str]:
    labels, position = {}, 0
    while position < len(text):
        match = _LABEL.match(text, position)
        assert match, f"bad labels at {text[position:]!r}"
        labels[match[1]] = re.sub(r"\\.", lambda m: _UNESCAPE[m[0]], match[2])
        position = match.end()
    return labels


def _parse(page: str) -> dict[str, dict[str, Any]]:
    """Families by name: {"type", "help", "samples": [(name, labels, value)]}, checking the format's rules
    on the way: HELP then TYPE before any sample, one contiguous block per family, a final line feed."""
    assert page.endswith("\n")
    families: dict[str, dict[str, Any]] = {}
    current: str | None = None
    for line in page[:-1].split("\n"):
        if line.startswith("# HELP "):
            name, _, help_ = line[7:].partition(" ")
            assert name not in families, f"{name} appears in two blocks"
            families[name] = {"help": help_, "type": None, "samples": []}
            current = name
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert name == current and families[name]["type"] is None and not families[name]["samples"]
            assert kind in {"counter", "gauge", "histogram"}
            families[name]["type"] = kind
        else:
            match = _SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            name, labels, value = match[1], _labels(match[2] or ""), float(match[3])
            assert current is not None
            suffixes = ("_bucket", "_sum", "_count") if families[current]["type"] == "histogram" else ("",)
            assert name in {current + suffix for suffix in suffixes}, f"{name} outside its family {current}"
            families[current]["samples"].append((name, labels, value))
    return families


def _values(families: dict[str, dict[str, Any]], name: str, **match: str) -> list[float]:
    """Values of the samples called `name` (a histogram's `_bucket`/`_sum`/`_count` too) with these labels."""
    return [value for family in families.values() for sample, labels, value in family["samples"]
            if sample == name and all(labels.get(k) == v for k, v in match.items())]


@pytest.fixture
def readers(floor: Floor) -> Floor:
    ble = Reader.objects.get(code="BLE-101")
    ReaderHealth.objects.create(reader=ble, state=ReaderHealth.State.ONLINE, reads_per_s=12.5, reads_total=1000,
                                drops={"garbled": 3, ODD: 1}, last_read_at=timezone.now())
    odd = Reader.objects.create(code=ODD, name="odd", kind=Reader.Kind.BLE_GATEWAY, protocol="ble_espresense",
                                floor=floor, position=ble.position)
    ReaderHealth.objects.create(reader=odd, state=ReaderHealth.State.OFFLINE, reads_total=5)
    return floor


@pytest.mark.django_db
def test_it_exposes_reader_health_per_reader(client: Client, readers: Floor, workers: redis.Redis) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    families = _parse(response.content.decode())
    p = "hospital_iot_reader_"
    assert families[p + "reads_total"]["type"] == "counter" and families[p + "reads_per_second"]["type"] == "gauge"
    assert _values(families, p + "reads_per_second", reader="BLE-101", kind="ble_gateway") == [12.5]
    assert _values(families, p + "reads_total", reader="BLE-101") == [1000]
    assert _values(families, p + "reads_total", reader="UWB-1") == [0]  # never reported: zero, state unknown
    assert _values(families, p + "state", reader="UWB-1", state="unknown") == [1]
    assert _values(families, p + "state", reader="BLE-101") == [0, 1, 0]  # unknown, online, offline
    assert _values(families, p + "drops_total", reader="BLE-101", reason="garbled") == [3]
    assert _values(families, p + "drops_total", reader="BLE-101", reason=ODD) == [1]  # escaped and back
    assert _values(families, p + "state", reader=ODD, state="offline") == [1]
    (last_read_s,) = _values(families, p + "last_read_timestamp_seconds", reader="BLE-101")
    assert last_read_s == pytest.approx(time.time(), abs=60)
    assert _values(families, "hospital_iot_database_up") == [1] and _values(families, "hospital_iot_redis_up") == [1]


@pytest.mark.django_db
def test_it_exposes_the_pipeline_workers_counters_gauges_and_histograms(client: Client, floor: Floor,
                                                                         workers: redis.Redis) -> None:
    a = _publish(workers, "rtls-a")
    _publish(workers, "rtls-b", age_s=25, lag_s=3.5, db_up=0, window_latency_s="garbage")
    families = _parse(client.get("/metrics").content.decode())
    p = "hospital_iot_rtls_"
    assert _values(families, p + "worker_up", worker="rtls-a") == [1]
    assert _values(families, p + "worker_up", worker="rtls-b") == [0]
    assert _values(families, p + "reads_total", worker="rtls-a") == [120_000]
    assert families[p + "reads_total"]["type"] == "counter" and families[p + "lag_seconds"]["type"] == "gauge"
    assert _values(families, p + "lag_seconds") == [0.25, 3.5]
    assert _values(families, p + "db_up") == [1, 0]
    assert _values(families, p + "drops_total", worker="rtls-a", reason=ODD) == [1]
    histogram = families[p + "window_latency_seconds"]
    assert histogram["type"] == "histogram"
    buckets = [(labels["le"], value) for name, labels, value in histogram["samples"]
               if name.endswith("_bucket") and labels["worker"] == "rtls-a"]
    bounds = [float(le) for le, _ in buckets]
    counts = [value for _, value in buckets]
    assert bounds == [*LE, float("inf")] and buckets[-1][0] == "+Inf"
    assert counts == sorted(counts) == a["window_latency_s"]["counts"]  # cumulative
    assert _values(families, p + "window_latency_seconds_count", worker="rtls-a") == [counts[-1]]
    assert _values(families, p + "window_latency_seconds_sum", worker="rtls-a") == [31.5]
    assert not _values(families, p + "window_latency_seconds_count", worker="rtls-b")  # garbage left out
    assert _values(families, p + "read_to_fix_latency_seconds_count", worker="rtls-b") == [9000]


@pytest.mark.django_db
def test_it_still_answers_with_redis_down_and_says_so(client: Client, readers: Floor, settings: Any) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/metrics")
    assert response.status_code == 200
    families = _parse(response.content.decode())
    assert _values(families, "hospital_iot_redis_up") == [0]
    assert _values(families, "hospital_iot_reader_reads_total", reader="BLE-101") == [1000]


ACCESS: list[tuple[dict[str, str], str, int]] = [
    ({"REMOTE_ADDR": "127.0.0.1"}, "", 200),
    ({"REMOTE_ADDR": "::1"}, "", 200),
    ({"REMOTE_ADDR": "10.1.2.3"}, "", 403),
    ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, "", 403),  # relayed by a local proxy
    ({"REMOTE_ADDR": "10.1.2.3", "HTTP_AUTHORIZATION": "Bearer s3cret"}, "s3cret", 200),
    ({"REMOTE_ADDR": "10.1.2.3", "HTTP_AUTHORIZATION": "Bearer wrong"}, "s3cret", 403),
    ({"REMOTE_ADDR": "10.1.2.3", "HTTP_AUTHORIZATION": "Bearer "}, "", 403),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("meta", "token", "status"), ACCESS)
def test_it_lets_local_scrapers_and_token_holders_read_metrics(client: Client, settings: Any, workers: redis.Redis,
                                                               meta: dict[str, str], token: str, status: int) -> None:
    settings.METRICS_TOKEN = token
    assert client.get("/metrics", **meta).status_code == status  # type: ignore[arg-type]
