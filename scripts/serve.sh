#!/usr/bin/env bash
# The demo: emulated hardware (LLRP readers on TCP, BLE gateways and UWB on MQTT), the RTLS (the reader
# supervisor and the location pipeline in one process: positions stored and pushed to the floor maps; it
# also runs the periodic jobs: alert escalation and webhooks, infusion timers), the ADT feed (HL7 v2 over
# MLLP, admissions/transfers/discharges), the door controllers' state (run_doors: door rows, door alerts,
# door layer of the maps) and the web app (HTTP + websockets) with daphne.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST=${1:-127.0.0.1}
PORT=${2:-8000}
ADT_PORT=${ADT_PORT:-2575}
mkdir -p var/log
PY=.venv/bin/python

pids=()
stop() {
    [ "${#pids[@]}" -gt 0 ] && kill "${pids[@]}" 2>/dev/null
    wait 2>/dev/null
}
trap stop EXIT INT TERM

$PY manage.py run_emulators >var/log/emulators.log 2>&1 &
pids+=($!)
$PY manage.py run_rtls >var/log/rtls.log 2>&1 &
pids+=($!)
$PY manage.py run_adt --host 127.0.0.1 --port "$ADT_PORT" >var/log/adt.log 2>&1 &
pids+=($!)
$PY manage.py run_doors >var/log/doors.log 2>&1 &
pids+=($!)
$PY manage.py demo_logins --url "http://$HOST:$PORT/"
echo "  ADT feed (HL7 v2 over MLLP): 127.0.0.1:$ADT_PORT, log var/log/adt.log (README: \"ADT feed\")"
echo "  emulated hardware: var/log/emulators.log   readers and pipeline: var/log/rtls.log   door controllers: var/log/doors.log"
echo "  Ctrl-C stops everything"
.venv/bin/daphne -b "$HOST" -p "$PORT" --access-log var/log/access.log hospital_iot.asgi:application &
pids+=($!)
wait -n "${pids[@]}" || true
echo "a demo process ended; see var/log/ for why" >&2
