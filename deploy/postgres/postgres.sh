#!/usr/bin/env bash
# Local PostgreSQL cluster for Tongban development and tests (Debian packages, no Docker).
#
# Usage: deploy/postgres/postgres.sh <command> [args...]
#   install         apt-get install postgresql if no /usr/lib/postgresql/*/bin/initdb exists.
#   start           install, initdb once (user tongban, trust auth, UTF8), start on 127.0.0.1:$PG_PORT,
#                   create the databases in $PG_DATABASES if missing, print their URLs.
#   stop            pg_ctl stop -m fast (ok if not running).
#   restart         pg_ctl restart -m fast (starts it if it was not running).
#   createdb NAME   create one more database if missing.
#   status          exit 0 if running, 1 if not.
#
# Environment (defaults):
#   PG_PORT=15432
#   PG_DIR=<repo>/.data/postgres-$PG_PORT   data directory (also unix socket dir and server.log).
#       If the postgres OS user cannot reach the default location, /var/tmp/tongban-postgres-$PG_PORT
#       is used instead (printed).
#   PG_DATABASES="tongban_catalogue tongban_routing tongban_authorization tongban_delivery"
# Server processes run as the `postgres` OS user (PostgreSQL refuses root). Connect with
#   psql -h 127.0.0.1 -p $PG_PORT -U tongban -d <db>   or   postgresql+asyncpg://tongban@127.0.0.1:$PG_PORT/<db>
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$SCRIPT_DIR/../.." && pwd)"

PG_PORT="${PG_PORT:-15432}"
[[ "$PG_PORT" =~ ^[0-9]+$ ]] || { echo "postgres.sh: PG_PORT must be a number, got '$PG_PORT'" >&2; exit 2; }
PG_DIR_DEFAULTED=0
if [[ -z "${PG_DIR:-}" ]]; then
    PG_DIR="$REPO/.data/postgres-$PG_PORT"
    PG_DIR_DEFAULTED=1
fi
PG_DIR="$(realpath -m -- "$PG_DIR")"
PG_FALLBACK_DIR="/var/tmp/tongban-postgres-$PG_PORT"
PG_DATABASES="${PG_DATABASES:-tongban_catalogue tongban_routing tongban_authorization tongban_delivery}"
PG_USER=tongban
PG_OS_USER=postgres

die() { echo "postgres.sh: error: $*" >&2; exit 1; }
log() { echo "postgres.sh: $*" >&2; }

find_bindir() {  # newest /usr/lib/postgresql/<ver>/bin containing initdb
    local initdb
    initdb="$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)"
    [[ -n "$initdb" && -x "$initdb" ]] || return 1
    dirname "$initdb"
}

cmd_install() {
    if find_bindir >/dev/null; then return 0; fi
    [[ "$(id -u)" -eq 0 ]] || die "PostgreSQL server binaries not found and not root: install the 'postgresql' package"
    command -v apt-get >/dev/null || die "PostgreSQL server binaries not found and apt-get is unavailable"
    log "PostgreSQL server binaries not found; installing the 'postgresql' package with apt-get ..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >&2 || die "apt-get update failed"
    apt-get install -y postgresql >&2 || die "apt-get install -y postgresql failed"
    find_bindir >/dev/null || die "postgresql installed but no /usr/lib/postgresql/*/bin/initdb found"
}

setup_bin() {
    BIN="$(find_bindir)" || die "PostgreSQL server binaries not found (run '$0 install')"
    id "$PG_OS_USER" >/dev/null 2>&1 || die "OS user '$PG_OS_USER' does not exist (it comes with the Debian postgresql package)"
    command -v runuser >/dev/null || die "runuser not found (package util-linux)"
}

as_pg() {  # run a command as the postgres OS user, from a directory it can read
    if [[ "$(id -u)" -eq 0 ]]; then
        (cd / && runuser -u "$PG_OS_USER" -- "$@")
    elif [[ "$(id -un)" == "$PG_OS_USER" ]]; then
        (cd / && "$@")
    else
        die "must run as root (or as '$PG_OS_USER') to manage the cluster"
    fi
}

pg_can_reach() {  # can the postgres user traverse every ancestor of $1 ?
    as_pg test -x "$1" 2>/dev/null
}

# Make PG_DIR reachable by the postgres OS user: chmod o+x on ancestors we own (under the repo's
# .data, /tmp, /var/tmp); otherwise fall back to /var/tmp (only when PG_DIR was not given explicitly).
prepare_dir() {
    if [[ "$(id -u)" -ne 0 ]]; then
        mkdir -p "$PG_DIR"
        return 0
    fi
    local parent d
    parent="$(dirname "$PG_DIR")"
    mkdir -p "$parent"
    # Top-down over the ancestors, so that each check sees its parents already fixed.
    local -a chain=()
    d="$parent"
    while [[ "$d" != "/" ]]; do chain=("$d" "${chain[@]}"); d="$(dirname "$d")"; done
    for d in "${chain[@]}"; do
        pg_can_reach "$d" && continue
        case "$d/" in
            "$REPO/.data/"*|/tmp/?*|/var/tmp/?*) chmod o+x "$d" ;;
            *) break ;;
        esac
    done
    if ! pg_can_reach "$parent"; then
        if [[ "$PG_DIR_DEFAULTED" -eq 1 ]]; then
            log "the '$PG_OS_USER' OS user cannot traverse $parent; using $PG_FALLBACK_DIR instead"
            PG_DIR="$PG_FALLBACK_DIR"
            parent="$(dirname "$PG_DIR")"
        else
            die "the '$PG_OS_USER' OS user cannot traverse $parent (needed for PG_DIR=$PG_DIR); chmod o+x its ancestors or choose another PG_DIR"
        fi
    fi
    mkdir -p "$PG_DIR"
    chown "$PG_OS_USER:" "$PG_DIR"
    chmod 700 "$PG_DIR"
    pg_can_reach "$PG_DIR" || die "the '$PG_OS_USER' OS user cannot access $PG_DIR"
}

# When the default location is unreachable the cluster lives in the fallback dir; find it again
# for stop/status/restart/createdb without creating anything.
resolve_existing_dir() {
    if [[ ! -f "$PG_DIR/PG_VERSION" && "$PG_DIR_DEFAULTED" -eq 1 && -f "$PG_FALLBACK_DIR/PG_VERSION" ]]; then
        PG_DIR="$PG_FALLBACK_DIR"
    fi
}

check_socket_path() {
    local sock="$PG_DIR/.s.PGSQL.$PG_PORT"
    (( ${#sock} <= 107 )) || die "unix socket path too long (${#sock} > 107 chars): $sock; choose a shorter PG_DIR"
}

server_opts() {
    echo "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$PG_DIR -c fsync=off -c max_connections=200"
}

is_running() {
    [[ -f "$PG_DIR/PG_VERSION" ]] || return 1
    as_pg "$BIN/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1
}

psql_admin() {  # psql_admin ARGS... against the postgres maintenance database
    as_pg "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres "$@"
}

ensure_db() {
    local name="$1" exists
    [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "invalid database name '$name' (letters, digits, _)"
    exists="$(psql_admin -tA -c "SELECT 1 FROM pg_database WHERE datname = '$name'")" \
        || die "could not query databases on 127.0.0.1:$PG_PORT"
    if [[ "$exists" != "1" ]]; then
        psql_admin -c "CREATE DATABASE \"$name\"" || die "CREATE DATABASE $name failed"
        log "created database $name"
    fi
}

fail_with_log() {
    echo "postgres.sh: error: $*" >&2
    if [[ -f "$PG_DIR/server.log" ]]; then
        echo "---- last 30 lines of $PG_DIR/server.log ----" >&2
        tail -n 30 "$PG_DIR/server.log" >&2
        echo "---- end ----" >&2
    fi
    exit 1
}

cmd_start() {
    cmd_install
    setup_bin
    prepare_dir
    check_socket_path
    if [[ ! -f "$PG_DIR/PG_VERSION" ]]; then
        if [[ -n "$(ls -A "$PG_DIR")" ]]; then
            die "$PG_DIR is not empty but has no PG_VERSION (not a PostgreSQL cluster); remove it or choose another PG_DIR"
        fi
        local locale=C.UTF-8
        locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$' || locale=C
        log "initialising cluster in $PG_DIR (locale $locale)"
        local out
        out="$(as_pg "$BIN/initdb" -D "$PG_DIR" -U "$PG_USER" --auth=trust -E UTF8 --locale="$locale" 2>&1)" || {
            echo "$out" >&2
            die "initdb failed"
        }
    fi
    if is_running; then
        echo "postgres already running on 127.0.0.1:$PG_PORT (dir $PG_DIR)"
    else
        as_pg "$BIN/pg_ctl" -D "$PG_DIR" -o "$(server_opts)" -l "$PG_DIR/server.log" -w -t 60 start >&2 \
            || fail_with_log "pg_ctl start failed (port $PG_PORT in use?)"
        echo "postgres started on 127.0.0.1:$PG_PORT (dir $PG_DIR)"
    fi
    local db
    for db in $PG_DATABASES; do ensure_db "$db"; done
    for db in $PG_DATABASES; do echo "postgresql+asyncpg://$PG_USER@127.0.0.1:$PG_PORT/$db"; done
}

cmd_stop() {
    setup_bin
    resolve_existing_dir
    if ! is_running; then
        echo "postgres not running (dir $PG_DIR)"
        return 0
    fi
    as_pg "$BIN/pg_ctl" -D "$PG_DIR" -m fast -w -t 60 stop >&2 || fail_with_log "pg_ctl stop failed"
    echo "postgres stopped (data kept in $PG_DIR)"
}

cmd_restart() {
    setup_bin
    resolve_existing_dir
    [[ -f "$PG_DIR/PG_VERSION" ]] || die "no cluster in $PG_DIR (run '$0 start' first)"
    check_socket_path
    as_pg "$BIN/pg_ctl" -D "$PG_DIR" -o "$(server_opts)" -l "$PG_DIR/server.log" -m fast -w -t 60 restart >&2 \
        || fail_with_log "pg_ctl restart failed"
    echo "postgres restarted on 127.0.0.1:$PG_PORT (dir $PG_DIR)"
}

cmd_createdb() {
    [[ $# -eq 1 ]] || die "usage: postgres.sh createdb NAME"
    setup_bin
    resolve_existing_dir
    is_running || die "postgres is not running on port $PG_PORT (dir $PG_DIR); run '$0 start' first"
    ensure_db "$1"
    echo "postgresql+asyncpg://$PG_USER@127.0.0.1:$PG_PORT/$1"
}

cmd_status() {
    setup_bin
    resolve_existing_dir
    if is_running; then
        echo "postgres running on 127.0.0.1:$PG_PORT (dir $PG_DIR)"
    else
        echo "postgres not running (dir $PG_DIR)"
        return 1
    fi
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
}

main() {
    local cmd="${1:-}"
    [[ $# -gt 0 ]] && shift
    case "$cmd" in
        install)  cmd_install; echo "PostgreSQL server binaries: $(find_bindir)" ;;
        start)    cmd_start ;;
        stop)     cmd_stop ;;
        restart)  cmd_restart ;;
        createdb) cmd_createdb "$@" ;;
        status)   cmd_status ;;
        -h|--help|help) usage ;;
        "") usage; exit 2 ;;
        *) echo "postgres.sh: unknown command '$cmd'" >&2; usage; exit 2 ;;
    esac
}

main "$@"
