"""Mother and infant: a mother's button next to a baby, or the two staying together, is a match check
(security.services.match_record decides match or mismatch)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from security.geometry import pair_distances_m
from security.rules.state import STATE, Fix, fix_stored
from security.services import match_record

if TYPE_CHECKING:
    from security.selectors import ArmedInfant, ArmedMother

logger = logging.getLogger(__name__)

BUTTON_M, TOGETHER_M, TOGETHER_S, TOGETHER_AGAIN_S = 1.5, 1.0, 60.0, 3600.0
FRESH_FIX_S = 10.0  # a fix older than this is not used to pair a mother with an infant


def together_check(infants: dict[int, ArmedInfant], mothers: dict[int, ArmedMother], *, now_s: float) -> None:
    """Pairs (mother, infant) within TOGETHER_M in one zone of one floor, by their latest fresh fixes; a pair together
    for TOGETHER_S without a break is a match check (once per TOGETHER_AGAIN_S)."""
    last = STATE.last
    m_pks = [pk for pk in mothers if pk in last and now_s - last[pk].at_s <= FRESH_FIX_S]
    i_pks = [pk for pk in infants if pk in last and now_s - last[pk].at_s <= FRESH_FIX_S]
    if not m_pks or not i_pks:
        STATE.together.clear()
        return
    m_fix, i_fix = [last[pk] for pk in m_pks], [last[pk] for pk in i_pks]
    d = pair_distances_m([f.x_m for f in m_fix], [f.y_m for f in m_fix], [f.x_m for f in i_fix],
                         [f.y_m for f in i_fix])
    same_floor = np.array([f.floor_id for f in m_fix])[:, None] == np.array([f.floor_id for f in i_fix])[None, :]
    # in one zone too (where both are known): a mother and a cot 1 m apart through a wall are not together
    m_zone = np.array([-1 if f.zone_id is None else f.zone_id for f in m_fix])
    i_zone = np.array([-1 if f.zone_id is None else f.zone_id for f in i_fix])
    same_zone = (m_zone[:, None] == i_zone[None, :]) | (m_zone[:, None] < 0) | (i_zone[None, :] < 0)
    close = {(m_pks[a], i_pks[b]): float(d[a, b])
             for a, b in zip(*np.nonzero(same_floor & same_zone & (d <= TOGETHER_M)), strict=True)}
    STATE.together = {pair: STATE.together.get(pair, now_s) for pair in close}
    for pair, since_s in STATE.together.items():
        if now_s - since_s >= TOGETHER_S and now_s - STATE.matched.get(pair, float("-inf")) >= TOGETHER_AGAIN_S:
            STATE.matched[pair] = now_s
            mother, infant = mothers[pair[0]], infants[pair[1]]
            _match(mother, infant, how="together", fix=last[pair[1]], distance_m=close[pair])


def _match(mother: ArmedMother, infant: ArmedInfant, *, how: str, fix: Fix, distance_m: float) -> None:
    try:
        match_record(mother_id=mother.mother_id, infant_id=infant.infant_id, how=how, at=fix.at,
                     zone_id=fix.zone_id, distance_m=round(distance_m, 2))
    except Exception:  # e.g. the infant discharged since the directory was read: the other pairs go on
        logger.exception("security: match check of mother %s and infant %s failed", mother.mother_id,
                         infant.infant_id)


def button_pressed(mother: ArmedMother, infants: dict[int, ArmedInfant], at: datetime) -> None:
    """The mother pressed her tag's button: the nearest armed infant within BUTTON_M is checked with her."""
    here = STATE.last.get(mother.tag_pk) or fix_stored(mother.tag_pk)
    if here is None:
        logger.info("security: mother %s pressed her button but has no position", mother.mother_id)
        return
    near = [(pk, f) for pk in infants if (f := STATE.last.get(pk)) is not None and f.floor_id == here.floor_id
            and abs(at.timestamp() - f.at_s) <= FRESH_FIX_S]
    if not near:
        return
    d = pair_distances_m([here.x_m], [here.y_m], [f.x_m for _, f in near], [f.y_m for _, f in near])[0]
    best = int(np.argmin(d))
    if d[best] <= BUTTON_M:
        tag_pk, f = near[best]
        _match(mother, infants[tag_pk], how="button", fix=Fix(f.floor_id, f.x_m, f.y_m, f.zone_id, at.timestamp()),
               distance_m=float(d[best]))
