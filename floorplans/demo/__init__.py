"""The generated demo hospital: floor GeoJSON (layout) and plan images (render). Pure Python, no Django."""
