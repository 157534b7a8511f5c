"""Reads of tracking data: locations and snapshots, search and nearest, trails and occupancy, and the
operational state (health, metrics) of the pipeline. Views and consumers call these; they never write."""
