"""The asset registry: CSV import (all or nothing, dry run, row errors), CSV export, list filters.

| module | holds |
|---|---|
| `columns.py` | the CSV columns, reading a file, checking one row's cells (no database) |
| `zonecodes.py` | zones as the CSV names them (code, or FLOOR/CODE) |
| `plan.py` | every row decided against the database before anything is written |
| `importer.py` | `assets_import_csv`, `assets_import_rows`: plan, then write all in one transaction |
| `export.py` | `assets_export`, `export_lines`: the registry with where each asset is now |
| `selectors.py` | the filtered list, PM due/overdue, an asset's status and verification history |
"""

from tracking.assets.registry.columns import COLUMNS, EXPORT_NAMES, AssetRow, ImportFileError, RowError
from tracking.assets.registry.export import assets_export, export_lines
from tracking.assets.registry.importer import ImportReport, assets_import_csv, assets_import_rows

__all__ = [
    "COLUMNS",
    "EXPORT_NAMES",
    "AssetRow",
    "ImportFileError",
    "ImportReport",
    "RowError",
    "assets_export",
    "assets_import_csv",
    "assets_import_rows",
    "export_lines",
]
