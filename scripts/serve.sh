#!/usr/bin/env bash
# Serve the web app (HTTP + websockets) with daphne after printing where and how to log in.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST=${1:-127.0.0.1}
PORT=${2:-8000}
.venv/bin/python manage.py demo_logins --url "http://$HOST:$PORT/"
exec .venv/bin/daphne -b "$HOST" -p "$PORT" --access-log - hospital_iot.asgi:application
