"""The Prometheus text format writer: escaping, values, histograms, and what it refuses."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from tracking.metrics_text import Family, escape_help, escape_label_value, format_value, render


@pytest.mark.parametrize(("raw", "escaped"), [
    ("ward3-door", "ward3-door"),
    ('say "hi"', 'say \\"hi\\"'),
    ("C:\\readers\\1", "C:\\\\readers\\\\1"),
    ("two\nlines", "two\\nlines"),
    ('\\"\n', '\\\\\\"\\n'),
    ("Ünïcode · ok", "Ünïcode · ok"),
])
def test_it_escapes_label_values(raw: str, escaped: str) -> None:
    assert escape_label_value(raw) == escaped


def test_it_escapes_help_text_but_keeps_quotes() -> None:
    assert escape_help('a "b" \\ c\nd') == 'a "b" \\\\ c\\nd'


@pytest.mark.parametrize(("value", "text"), [
    (0, "0"), (3, "3"), (2.0, "2"), (0.25, "0.25"), (1e-7, "1e-07"), (1e20, "1e+20"),
    (math.inf, "+Inf"), (-math.inf, "-Inf"), (math.nan, "NaN"),
])
def test_it_formats_values(value: float, text: str) -> None:
    assert format_value(value) == text


def test_it_renders_help_type_and_samples_family_by_family() -> None:
    reads = Family("hiot_reads_total", "counter", "Reads.\nAll of them.")
    reads.add(5, reader='r"1', floor="3")
    reads.add(7, reader="r2", floor="3")
    up = Family("hiot_up", "gauge", "Up.")
    up.add(1)
    assert render([reads, up]) == (
        "# HELP hiot_reads_total Reads.\\nAll of them.\n"
        "# TYPE hiot_reads_total counter\n"
        'hiot_reads_total{reader="r\\"1",floor="3"} 5\n'
        'hiot_reads_total{reader="r2",floor="3"} 7\n'
        "# HELP hiot_up Up.\n"
        "# TYPE hiot_up gauge\n"
        "hiot_up 1\n"
    )


def test_it_renders_a_histogram_with_cumulative_buckets_sum_and_count() -> None:
    latency = Family("hiot_latency_seconds", "histogram", "Latency.")
    latency.add_histogram(le=[0.01, 0.1, 1], counts=[2, 5, 9, 10], sum_=4.5, count=10, worker="w1")
    assert render([latency]).splitlines()[2:] == [
        'hiot_latency_seconds_bucket{worker="w1",le="0.01"} 2',
        'hiot_latency_seconds_bucket{worker="w1",le="0.1"} 5',
        'hiot_latency_seconds_bucket{worker="w1",le="1"} 9',
        'hiot_latency_seconds_bucket{worker="w1",le="+Inf"} 10',
        'hiot_latency_seconds_sum{worker="w1"} 4.5',
        'hiot_latency_seconds_count{worker="w1"} 10',
    ]


@pytest.mark.parametrize(("histogram", "problem"), [
    ({"le": [0.1, 1], "counts": [1, 2], "count": 2}, "+Inf needs one more"),
    ({"le": [1, 0.1], "counts": [1, 2, 3], "count": 3}, "not increasing"),
    ({"le": [0.1, 1], "counts": [3, 2, 3], "count": 3}, "not cumulative"),
    ({"le": [0.1, 1], "counts": [1, 2, 3], "count": 4}, "not cumulative"),
])
def test_it_refuses_malformed_histograms_and_adds_nothing(histogram: dict[str, Any], problem: str) -> None:
    family = Family("hiot_latency_seconds", "histogram", "Latency.")
    with pytest.raises(ValueError, match=re.escape(problem)):
        family.add_histogram(sum_=1.0, **histogram)
    assert family.samples == []


@pytest.mark.parametrize("make", [
    lambda: Family("2bad", "gauge", "x"),
    lambda: Family("hiot-dash", "gauge", "x"),
    lambda: Family("hiot_ok", "gauge", "x").add(1, **{"bad-label": "v"}),
    lambda: Family("hiot_ok", "gauge", "x").add(1, le="0.1"),
    lambda: Family("hiot_ok", "histogram", "x").add(1),
    lambda: render([Family("hiot_twice", "gauge", "x"), Family("hiot_twice", "gauge", "x")]),
])
def test_it_refuses_what_would_make_an_invalid_page(make: Any) -> None:
    with pytest.raises(ValueError):
        make()
