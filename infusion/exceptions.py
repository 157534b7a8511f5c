class BedOccupied(ValueError):
    """The bed already has an admitted patient."""
