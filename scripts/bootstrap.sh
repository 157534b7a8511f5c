#!/usr/bin/env bash
# Set up everything hospital_iot needs on a Debian machine, idempotently and quickly on a re-run:
# system packages, the virtualenv, PostgreSQL/PostGIS, Redis and Mosquitto running, the database.
#   scripts/bootstrap.sh            what `make run` needs
#   scripts/bootstrap.sh --test     also what the tests need (Chromium for browser tests)
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_TEST=0
[ "${1:-}" = "--test" ] && WITH_TEST=1

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
DB_NAME=${POSTGRES_DB:-hospital_iot}
DB_USER=${POSTGRES_USER:-hospital_iot}
DB_PASSWORD=${POSTGRES_PASSWORD:-hospital_iot}
DB_HOST=${POSTGRES_HOST:-127.0.0.1}
DB_PORT=${POSTGRES_PORT:-5432}

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install_packages() {
    local wanted=(postgresql postgresql-contrib gdal-bin libgdal-dev libgeos-dev libproj-dev redis-server
                  mosquitto mosquitto-clients fonts-dejavu-core python3-venv python3-dev build-essential)
    [ "$WITH_TEST" = 1 ] && wanted+=(chromium)
    local missing=()
    for pkg in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    # the PostGIS extension package is named after the PostgreSQL major version
    local pg_major
    pg_major=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1 || true)
    if [ -n "$pg_major" ]; then
        dpkg-query -W -f='${Status}' "postgresql-$pg_major-postgis-3" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("postgresql-$pg_major-postgis-3")
    fi
    if [ "${#missing[@]}" -gt 0 ]; then
        say "installing system packages: ${missing[*]}"
        as_root apt-get update -q
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
        [ -z "$pg_major" ] && install_packages  # now that PostgreSQL is there, add its PostGIS
    fi
    return 0
}

make_venv() {
    local stamp="$VENV/.requirements.sha256"
    local want
    want=$(sha256sum requirements.txt | cut -d' ' -f1)
    if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    say "creating the virtualenv $VENV from requirements.txt"
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -r requirements.txt
    echo "$want" > "$stamp"
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_port() {  # host port name
    for _ in $(seq 1 60); do port_open "$1" "$2" && return 0; sleep 0.5; done
    echo "error: $3 did not start listening on $1:$2" >&2
    exit 1
}

start_services() {
    if ! port_open "$DB_HOST" "$DB_PORT"; then
        say "starting PostgreSQL"
        local version
        version=$(ls /etc/postgresql | sort -n | tail -1)
        pg_lsclusters -h | grep -q "^$version main" || as_root pg_createcluster "$version" main
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
            || as_root pg_ctlcluster "$version" main start
        wait_port "$DB_HOST" "$DB_PORT" PostgreSQL
    fi
    if ! port_open 127.0.0.1 6379; then
        say "starting Redis"
        as_root mkdir -p /var/lib/redis /var/log/redis
        as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
            --dir /var/lib/redis --logfile /var/log/redis/hospital_iot.log
        wait_port 127.0.0.1 6379 Redis
    fi
    if ! port_open 127.0.0.1 1883; then
        say "starting Mosquitto"
        as_root mosquitto -d -c /etc/mosquitto/mosquitto.conf
        wait_port 127.0.0.1 1883 Mosquitto
    fi
}

export PGOPTIONS="--client-min-messages=warning"

psql_admin() {  # run SQL as a PostgreSQL superuser: over TCP if trusted, else as the postgres OS user
    if psql -h "$DB_HOST" -p "$DB_PORT" -U postgres -d postgres -tAc "select 1" >/dev/null 2>&1; then
        psql -h "$DB_HOST" -p "$DB_PORT" -U postgres -v ON_ERROR_STOP=1 -tA "$@"
    else
        as_root runuser -u postgres -- psql -p "$DB_PORT" -v ON_ERROR_STOP=1 -tA "$@"
    fi
}

make_database() {
    # the app's role is a superuser: GeoDjango's test runner creates databases with PostGIS in them
    if [ "$(psql_admin -d postgres -c "select 1 from pg_roles where rolname = '$DB_USER'")" != "1" ]; then
        say "creating the PostgreSQL role $DB_USER"
        psql_admin -d postgres -c "create role \"$DB_USER\" login superuser password '$DB_PASSWORD'" >/dev/null
    fi
    if [ "$(psql_admin -d postgres -c "select 1 from pg_database where datname = '$DB_NAME'")" != "1" ]; then
        say "creating the database $DB_NAME"
        psql_admin -d postgres -c "create database \"$DB_NAME\" owner \"$DB_USER\"" >/dev/null
    fi
    psql_admin -d "$DB_NAME" -c "create extension if not exists postgis" >/dev/null
}

install_packages
make_venv
start_services
make_database
