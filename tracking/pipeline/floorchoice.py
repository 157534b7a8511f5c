"""Which floor a BLE tag is on when gateways of several floors (of one worker) heard it in a window.

Gateways hear through ceilings, so a tag on level 3 is often heard faintly on levels 2 and 4. The tag
goes to the floor of its strongest reading, but leaves its current floor only when another floor beats
it by a margin (tracking.localization.choose_floor); its reads on the other floors are set aside.
Pure numpy.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tracking.localization._arrays import Bool
from tracking.localization.floormap import choose_floor
from tracking.localization.window import ReadWindow
from tracking.pipeline.windows import FloorReads, lookup


def floors_choose(routed: Mapping[int, FloorReads], current: Mapping[str, int], *, margin_db: float = 6.0,
                  ) -> tuple[dict[int, FloorReads], int]:
    """The routed reads with each BLE tag's reads kept on one floor only; returns them and how many
    reads were set aside."""
    floors = sorted(routed)
    heard = [np.unique(routed[f].ble.tag_id) for f in floors]
    if len(floors) < 2:
        return dict(routed), 0
    every, counts = np.unique(np.concatenate(heard), return_counts=True)
    shared = every[counts > 1]
    if not len(shared):
        return dict(routed), 0
    best = np.full((len(shared), len(floors)), -np.inf)
    for j, f in enumerate(floors):  # over floors: the strongest reading of each shared tag there
        window = routed[f].ble
        rows = np.searchsorted(shared, window.tag_id)
        on = np.isin(window.tag_id, shared)
        np.maximum.at(best[:, j], rows[on], window.value[on])
    valid = np.isfinite(best)
    chosen = choose_floor(np.where(valid, best, 0.0), valid, np.array(floors, dtype=np.int64),
                          lookup(shared, current, missing=-1), margin_db=margin_db)
    out, set_aside = {}, 0
    for f in floors:
        elsewhere = shared[chosen != f]
        window = routed[f].ble
        keep = ~np.isin(window.tag_id, elsewhere)
        set_aside += int((~keep).sum())
        out[f] = FloorReads(ble=_take(window, keep), uwb=routed[f].uwb, rfid=routed[f].rfid)
    return out, set_aside


def _take(window: ReadWindow, keep: Bool) -> ReadWindow:
    return ReadWindow(window.tag_id[keep], window.receiver[keep], window.t_s[keep], window.value[keep])
