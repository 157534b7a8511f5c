"""The live pipeline: TagReads in; positions stored, announced to browsers and to workflow rules out.

    bus        InProcessBus (one machine) / RedisStreamBus (floor streams, consumer group, leases)
    windows    reads -> arrays once per window (<= 100 ms), routed by floor and technology   (pure)
    engine     FloorEngine: trackers, zones, RFID presence and portals of one floor          (pure)
    floorchoice BLE tags heard on several floors stay on one                                (pure)
    outputs    engine results -> store batches, frames, events
    commit     hand the write to tracking.store; acks, frames and events after the commit
    events     domain events and the subscribe() registry workflow apps use
    frames     "positions" / "heartbeat" messages to the channel layer groups floor.<id>
    metrics    counters and histograms, published to Redis for /metrics
    config     the database, as frozen data the hot path reads (reloaded every 30 s)
    worker     the loop tying it together; `manage.py run_rtls` runs it
"""
