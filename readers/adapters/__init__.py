"""Reader adapters: one file per protocol, each a pure parser plus a thin I/O class, registered by name."""
