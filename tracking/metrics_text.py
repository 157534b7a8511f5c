"""Prometheus text exposition format 0.0.4, written by hand: metric families in, one text page out.

Pure: no Django, no Redis. A family holds its samples; `render` writes each family's HELP and TYPE
lines followed by all its samples, families in the order given.
    # HELP hospital_iot_reader_reads_total Tag reads received from the reader.
    # TYPE hospital_iot_reader_reads_total counter
    hospital_iot_reader_reads_total{reader="ward3-door"} 1027
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Kind = Literal["counter", "gauge", "histogram"]

_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def escape_label_value(value: str) -> str:
    """Backslash, double quote and line feed escaped, as the format requires inside "..."."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    """Backslash and line feed escaped (HELP text is not quoted, so quotes stay)."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e15):
        return str(int(value))
    return repr(float(value))


@dataclass(frozen=True, slots=True)
class Sample:
    suffix: str  # "" or, for histograms, "_bucket" / "_sum" / "_count"
    labels: tuple[tuple[str, str], ...]
    value: float


@dataclass(slots=True)
class Family:
    """One metric family: a name, its type and help, and its samples."""

    name: str
    kind: Kind
    help: str
    samples: list[Sample] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not _METRIC_NAME.fullmatch(self.name):
            raise ValueError(f"invalid metric name {self.name!r}")

    def add(self, value: float, **labels: str) -> None:
        if self.kind == "histogram":
            raise ValueError(f"{self.name}: a histogram takes add_histogram")
        self.samples.append(Sample("", _labels(labels), value))

    def add_histogram(
        self, *, le: Sequence[float], counts: Sequence[int], sum_: float, count: int, **labels: str
    ) -> None:
        """Buckets from cumulative `counts`: one per upper bound in `le`, then the +Inf bucket (== count)."""
        if self.kind != "histogram":
            raise ValueError(f"{self.name} is a {self.kind}, not a histogram")
        bounds = [float(b) for b in le]
        if len(counts) != len(bounds) + 1:
            raise ValueError(f"{self.name}: {len(counts)} counts for {len(bounds)} bounds (+Inf needs one more)")
        if bounds != sorted(set(bounds)):
            raise ValueError(f"{self.name}: bucket bounds {bounds} are not increasing")
        if any(later < earlier for earlier, later in pairwise(counts)) or counts[-1] != count:
            raise ValueError(f"{self.name}: counts {list(counts)} are not cumulative up to count {count}")
        base = _labels(labels)
        for bound, n in zip([*bounds, math.inf], counts, strict=True):
            self.samples.append(Sample("_bucket", (*base, ("le", format_value(bound))), n))
        self.samples.append(Sample("_sum", base, sum_))
        self.samples.append(Sample("_count", base, count))


def _labels(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    for name in labels:
        if not _LABEL_NAME.fullmatch(name) or name.startswith("__") or name == "le":
            raise ValueError(f"invalid label name {name!r}")
    return tuple((name, str(value)) for name, value in labels.items())


def _sample_line(name: str, sample: Sample) -> str:
    labels = ",".join(f'{key}="{escape_label_value(value)}"' for key, value in sample.labels)
    return f"{name}{sample.suffix}{{{labels}}} {format_value(sample.value)}" if labels else (
        f"{name}{sample.suffix} {format_value(sample.value)}"
    )


def render(families: Iterable[Family]) -> str:
    """The exposition page: each family once (HELP, TYPE, samples), ending with a line feed."""
    lines: list[str] = []
    seen: set[str] = set()
    for family in families:
        if family.name in seen:
            raise ValueError(f"metric family {family.name} appears twice")
        seen.add(family.name)
        lines.append(f"# HELP {family.name} {escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        lines.extend(_sample_line(family.name, sample) for sample in family.samples)
    return "\n".join(lines) + "\n"
