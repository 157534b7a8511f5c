"""Who hears an alert: audiences as data (audience -> roles), and the channel-layer groups.

An alert is addressed to one audience when raised; escalation adds more (`Alert.audiences`). A person
belongs to the audiences of their roles; an administrator (and a superuser) to every audience.

Place scope follows tracking.access: a user with no floor scope hears the audience's whole group
("alerts.<audience>"); a scoped user hears only the groups of the floors they may watch
("alerts.<audience>.floor.<floor_id>") plus alerts that have no place ("alerts.<audience>.nowhere").
A ward-addressed alert is placed on the ward's floor, so a 3 North nurse scoped to that floor hears it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from accounts import roles
from alerts.exceptions import UnknownAudience

if TYPE_CHECKING:
    from collections.abc import Iterable

NURSES: Final = "nurses"
CHARGE_NURSES: Final = "charge_nurses"
SECURITY: Final = "security"
BIOMED: Final = "biomed"
ADMINISTRATORS: Final = "administrators"

AUDIENCES: Final[dict[str, tuple[str, ...]]] = {
    NURSES: (roles.NURSE, roles.CHARGE_NURSE),  # the charge nurse is a nurse of the ward too
    CHARGE_NURSES: (roles.CHARGE_NURSE,),
    SECURITY: (roles.SECURITY,),
    BIOMED: (roles.BIOMED,),
    ADMINISTRATORS: (roles.ADMINISTRATOR,),
}

# roles that hear every audience (they oversee the whole system)
ALL_AUDIENCE_ROLES: Final = frozenset({roles.ADMINISTRATOR})

AUDIENCE_CHOICES: Final = [(name, name.replace("_", " ")) for name in AUDIENCES]


def audience_check(audience: str) -> str:
    if audience not in AUDIENCES:
        raise UnknownAudience(f"unknown audience {audience!r}; one of {', '.join(AUDIENCES)}")
    return audience


def audiences_of_roles(role_names: Iterable[str], *, superuser: bool = False) -> set[str]:
    names = set(role_names)
    if superuser or names & ALL_AUDIENCE_ROLES:
        return set(AUDIENCES)
    return {audience for audience, members in AUDIENCES.items() if names & set(members)}


def audience_group(audience: str) -> str:
    """Every alert of the audience, wherever it is (users without a floor scope)."""
    return f"alerts.{audience_check(audience)}"


def audience_floor_group(audience: str, floor_id: int) -> str:
    """The audience's alerts placed on one floor (users scoped to that floor)."""
    return f"alerts.{audience_check(audience)}.floor.{int(floor_id)}"


def audience_nowhere_group(audience: str) -> str:
    """The audience's alerts that have no floor (a reader without a place, a patient-level alert)."""
    return f"alerts.{audience_check(audience)}.nowhere"


def groups_for_alert(audiences: Iterable[str], floor_id: int | None) -> list[str]:
    """The groups one alert message goes to: each audience's full group and its place group."""
    groups: list[str] = []
    for audience in sorted(set(audiences)):
        groups.append(audience_group(audience))
        if floor_id is None:
            groups.append(audience_nowhere_group(audience))
        else:
            groups.append(audience_floor_group(audience, floor_id))
    return groups


def groups_for_listener(audiences: Iterable[str], floor_ids: frozenset[int] | None) -> list[str]:
    """The groups a user's socket joins: floor_ids None = no scope (hears everything of the audience)."""
    groups: list[str] = []
    for audience in sorted(set(audiences)):
        if floor_ids is None:
            groups.append(audience_group(audience))
        else:
            groups.append(audience_nowhere_group(audience))
            groups.extend(audience_floor_group(audience, floor_id) for floor_id in sorted(floor_ids))
    return groups
