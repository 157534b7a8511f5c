"""The roles of hospital_iot as data: which Django permissions each role's group holds.

A pattern is "<app_label>.<codename>" with "*" wildcards (fnmatch), matched against every permission
that exists. `roles_sync` makes the groups hold exactly these, so editing this table and migrating is
how a role changes.
"""

from __future__ import annotations

from typing import Final

NURSE: Final = "nurse"
CHARGE_NURSE: Final = "charge_nurse"
PHARMACIST: Final = "pharmacist"
BIOMED: Final = "biomedical_engineer"
SECURITY: Final = "security_officer"
ADMINISTRATOR: Final = "administrator"
INTEGRATION: Final = "integration"
GATEWAY: Final = "gateway"

_SEE_FLOORS = ("floorplans.view_*",)
# where things are now (live floor map, /api/locations/) and who is in each zone (/api/occupancy/)
_SEE_WHERE = ("tracking.view_currentlocation", "tracking.view_zonepresence")
_SEE_TRACKING = ("tracking.view_tag", "tracking.view_trackedobject", "tracking.view_asset", *_SEE_WHERE)
# where things have been: trails and door crossings (people's movements, so not every role)
_SEE_PAST = ("tracking.view_locationhistory", "tracking.view_portalcrossing")
# equipment records biomed keeps; never tracking.* (that would let it edit FloorAccess, its own scope)
_KEEP_EQUIPMENT = ("tracking.*_tag", "tracking.*_trackedobject", "tracking.*_asset", "tracking.*_assetstatuschange",
                   "tracking.*_statusrule", "tracking.*_parlevel", "tracking.*_forbiddenzone", "tracking.*_audit",
                   "tracking.*_audititem", "tracking.*_assetverification")
# nurses see their ward's PAR levels (how many pumps the store should hold) and the equipment's status history
_SEE_EQUIPMENT = ("tracking.view_parlevel", "tracking.view_assetstatuschange")

# the ward's infusions: patients and bags (see, start/pause/stop), the ADT log is the administrator's
_NURSE_INFUSION = ("infusion.view_patient", "infusion.view_infusionbag", "infusion.change_infusionbag",
                   "infusion.view_bagevent")
# the pharmacy: label bags for admitted patients and send them to the ward (the pharmacy screen asks for
# add_infusionbag for both). No change_infusionbag: that is the bedside actions (start, pause...) of the API
_PHARMACY = ("infusion.view_patient", "infusion.view_infusionbag", "infusion.add_infusionbag")
# infant protection on the maternity ward: see the protected infants, their mothers and tags, enrol a newly
# strapped infant, check a mother-infant pairing, call a Code Pink (anyone may; security resolves it)
_NURSE_INFANTS = ("security.view_infant", "security.add_infant", "security.view_mother", "security.add_mother",
                  "security.view_tagstate", "security.view_matchcheck", "security.add_matchcheck",
                  "security.view_escortpass", "security.view_doorcontroller", "security.view_codepink",
                  "security.start_codepink")
# the charge nurse also signs infants out (with a second user) and escorts them off the ward
_CHARGE_INFANTS = (*_NURSE_INFANTS, "security.change_infant", "security.discharge_infant", "security.add_escortpass",
                   "security.change_escortpass")
# security officers: everything in security/ (doors, Code Pink, the access log), but not deleting its records
_SECURITY_ALL = ("security.view_*", "security.add_*", "security.change_*", "security.discharge_infant",
                 "security.start_codepink")
# alerts addressed to the role's audience: see them, acknowledge and resolve them (change_alert)
_ANSWER_ALERTS = ("alerts.view_alert", "alerts.change_alert", "alerts.view_alertevent")

ROLE_PERMISSIONS: Final[dict[str, tuple[str, ...]]] = {
    # the floor map's marker details show the last hour's trail: the nurse's "where has this pump been?"
    NURSE: _SEE_FLOORS + _SEE_TRACKING + ("tracking.view_locationhistory",) + _NURSE_INFUSION + _ANSWER_ALERTS
    + _NURSE_INFANTS + _SEE_EQUIPMENT,
    CHARGE_NURSE: _SEE_FLOORS
    + _SEE_TRACKING
    + ("tracking.view_locationhistory", "infusion.change_patient", "infusion.add_patient")
    + _NURSE_INFUSION
    + _ANSWER_ALERTS
    + _CHARGE_INFANTS
    + _SEE_EQUIPMENT,
    PHARMACIST: _PHARMACY,
    BIOMED: (*_SEE_FLOORS, "readers.view_*", *_SEE_TRACKING, *_SEE_PAST, *_KEEP_EQUIPMENT, *_ANSWER_ALERTS),
    SECURITY: (*_SEE_FLOORS, "readers.view_*", *_SEE_TRACKING, *_SEE_PAST, *_ANSWER_ALERTS, *_SECURITY_ALL),
    ADMINISTRATOR: (
        "floorplans.*",
        "readers.*",
        "tracking.*",
        "infusion.*",
        "alerts.*",
        "security.*",
        "auth.*",
        "authtoken.*",
        "accounts.*",
    ),
    # machines (a nurse-call system, a BI export) reading locations over the API with a token
    INTEGRATION: (*_SEE_FLOORS, "readers.view_*", *_SEE_TRACKING, *_SEE_PAST),
    # BLE gateways that POST their sightings over HTTP instead of MQTT
    GATEWAY: ("readers.ingest_reads",),
}

ROLE_LABELS: Final[dict[str, str]] = {
    NURSE: "Nurse",
    CHARGE_NURSE: "Charge nurse",
    PHARMACIST: "Pharmacist",
    BIOMED: "Biomedical engineer",
    SECURITY: "Security officer",
    ADMINISTRATOR: "Administrator",
    INTEGRATION: "Integration (machine)",
    GATEWAY: "Gateway (machine)",
}

# roles whose members may open the Django admin (it still shows only what their permissions allow)
STAFF_ROLES: Final = frozenset({ADMINISTRATOR, BIOMED})
