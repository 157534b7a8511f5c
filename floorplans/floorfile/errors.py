"""What is wrong with a floor file, feature by feature."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FeatureError:
    """One problem: `index` is the feature's position in `features` (None for the file header)."""

    index: int | None
    code: str | None
    reason: str

    def __str__(self) -> str:
        if self.index is None:
            return f"header: {self.reason}"
        where = f"feature {self.index}" + (f" ({self.code})" if self.code else "")
        return f"{where}: {self.reason}"


class FloorFileError(ValueError):
    """The file was rejected; `errors` lists every problem found (nothing was written)."""

    def __init__(self, errors: list[FeatureError]) -> None:
        self.errors = errors
        shown = "\n".join(f"  {e}" for e in errors[:50])
        more = f"\n  ... and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"floor file rejected, {len(errors)} problem(s):\n{shown}{more}")
