#!/usr/bin/env bash
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --test
exec .venv/bin/python scripts/screenshot.py
