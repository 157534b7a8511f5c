"""The floor-local coordinate frame shared by every spatial column."""

# Planar metric SRID of floor-local metres (x right, y up from the plan's lower-left corner).
# PostGIS needs the SRID in spatial_ref_sys with metre units, or GeoDjango's distance lookups fail
# (SRID 0 has no units): floorplans/migrations/0001_floor_local_srid.py registers it. 990001 lies in
# the range PostGIS leaves to users (<= 998999).
FLOOR_SRID = 990001
