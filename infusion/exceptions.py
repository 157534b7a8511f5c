class BedOccupied(ValueError):
    """The bed already has an admitted patient."""


class BagError(Exception):
    """A bag action was refused; the message says why in words a nurse understands (the API's 409 detail)."""


class InvalidBagTransition(BagError):
    """The bag's status does not allow this action (names the from and to status)."""

    def __init__(self, *, bag_id: int, from_status: str, to_status: str, action: str = "") -> None:
        self.bag_id, self.from_status, self.to_status = bag_id, from_status, to_status
        verb = action or to_status
        super().__init__(f"bag {bag_id} cannot be {verb}: it is {from_status} ({from_status} → {to_status} "
                         "is not allowed)")


class BagWrongPlace(BagError):
    """The bag is at another patient's bed (or not on its patient's ward)."""


class BagExpired(BagError):
    """The bag is past its expiry time."""


class BagInvalid(BagError):
    """A value for the bag is not acceptable (unknown tag or patient, a rate out of range...)."""


class AdtError(ValueError):
    """An HL7 ADT message we cannot apply; `ack_code` is what the sender gets back.

    AR (application reject): the message itself is unacceptable (no MSH, not ADT, an event we do not
    support, no control id). AE (application error): a well-formed message whose content we cannot use
    (missing PID-3, bad date, unknown bed, bed occupied, unknown patient).
    """

    def __init__(self, reason: str, ack_code: str = "AE", *, hl7_code: str = "207") -> None:
        if ack_code not in ("AE", "AR"):
            raise ValueError(f"an ADT error is acknowledged with AE or AR, not {ack_code!r}")
        super().__init__(reason)
        self.reason = reason
        self.ack_code = ack_code
        self.hl7_code = hl7_code  # HL7 table 0357 for the ERR segment: 101 required field missing, 207 internal...


class PatientNotFound(LookupError):
    """No patient with this MRN."""


class PatientNotAdmitted(ValueError):
    """The patient exists but is not in a bed (never admitted, or discharged)."""


class BedNotFound(LookupError):
    """A location (an ADT PV1-3, a zone id) that names no bed zone."""
