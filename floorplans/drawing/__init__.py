"""Drawing floor plans from floor documents: any floor, not only the demo (pure Pillow + shapely)."""
