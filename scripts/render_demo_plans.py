"""Write the plan image of every demo floor as PNG, to look at them.

    python scripts/render_demo_plans.py OUT_DIR     -> OUT_DIR/L0.png, L2.png, L4.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from floorplans.demo.layout import demo_floors
from floorplans.drawing.render import render_plan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="folder for the PNG files (created if missing)")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for collection in demo_floors():
        code = collection["hospital_iot"]["floor"]["code"]
        path = args.out_dir / f"{code}.png"
        render_plan(collection).save(path, optimize=True)
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
