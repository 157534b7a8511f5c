"""Register the floor-local planar metric SRID before any geometry column uses it.

GeoDjango looks a column's SRID up in spatial_ref_sys for its units; with SRID 0 distance lookups
fail. A planar metric CRS makes contains / dwithin / Distance / KNN work in floor metres.
"""

from django.db import migrations

from floorplans.geometry import FLOOR_SRID

# GeoDjango reads units *and* a spheroid from the SRID, so a bare LOCAL_CS fails ("CRS has no geodetic
# CRS"). A transverse Mercator centred on (0, 0) with scale 1 is planar metres in every way GeoDjango
# and PostGIS use it here; no coordinate is ever transformed through it (WGS84 export uses the
# floor's own geo-reference, see floorplans.calibration.GeoReference).
SRTEXT = (
    'PROJCS["hospital_iot floor-local metres",GEOGCS["WGS 84",DATUM["WGS_1984",'
    'SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],'
    'PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",0],'
    'PARAMETER["scale_factor",1],PARAMETER["false_easting",0],PARAMETER["false_northing",0],'
    'UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["x",EAST],AXIS["y",NORTH]]'
)
PROJ4 = "+proj=tmerc +lat_0=0 +lon_0=0 +k=1 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"

FORWARD = f"""
INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text)
VALUES ({FLOOR_SRID}, 'hospital_iot', {FLOOR_SRID}, '{SRTEXT}', '{PROJ4}')
ON CONFLICT (srid) DO UPDATE SET srtext = EXCLUDED.srtext, proj4text = EXCLUDED.proj4text;
"""
BACKWARD = f"DELETE FROM spatial_ref_sys WHERE srid = {FLOOR_SRID};"


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
