"""Door and elevator controllers: the delayed-egress state machine (egress), the MQTT protocol (protocol),
the command port (port), an emulated controller (emulator), the services that keep DoorController rows
and door alerts (services) and the broker listener behind `manage.py run_doors` (listener)."""
