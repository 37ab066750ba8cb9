#!/usr/bin/env bash
# Try scale-out locally: a PostgreSQL (Debian's postgresql package) on a loopback port and two
# hookwatch replicas sharing it. Post to one replica, watch the dashboard on the other.
#
#   deploy/local-replicas.sh            # PostgreSQL on 127.0.0.1:5433, replicas on :4001 and :4002
#   PG_PORT=6543 PORTS="5001 5002 5003" deploy/local-replicas.sh
#
# Ctrl-C stops the replicas and PostgreSQL. The cluster lives in $PG_DIR (default
# ./data/pg-local) and is reused on the next run; delete that directory to start afresh.
set -euo pipefail

cd "$(dirname "$0")/.."
PG_PORT="${PG_PORT:-5433}"
PORTS="${PORTS:-4001 4002}"
PG_DIR="$(realpath -m "${PG_DIR:-./data/pg-local}")"
PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
DENO="${DENO:-deno}"

if [[ -z "$PG_BIN" || ! -x "$PG_BIN/pg_ctl" ]]; then
  echo "PostgreSQL not found: apt-get install postgresql (or set PG_BIN)" >&2
  exit 1
fi

# initdb refuses to run as root: run the cluster as the postgres user then.
as_pg() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

mkdir -p "$PG_DIR"
if [[ "$(id -u)" == 0 ]]; then chown postgres: "$PG_DIR"; fi
if [[ ! -f "$PG_DIR/data/PG_VERSION" ]]; then
  as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust --encoding=UTF8 --locale=C >/dev/null
fi
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR" start >/dev/null
echo "PostgreSQL on 127.0.0.1:$PG_PORT (log: $PG_DIR/server.log)"

pids=()
cleanup() {
  trap - EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null || true
  echo "stopped"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qtAc \
  "SELECT 1 FROM pg_database WHERE datname = 'hookwatch'" | grep -q 1 ||
  as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres hookwatch

export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/hookwatch"
for port in $PORTS; do
  PORT="$port" HOST=127.0.0.1 "$DENO" run --allow-net --allow-read --allow-write --allow-env \
    --allow-sys --allow-run=deno main.ts &
  pids+=("$!")
done
for port in $PORTS; do
  for _ in $(seq 150); do
    if command -v curl >/dev/null; then
      curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break
    else
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    fi
    sleep 0.2
  done
done
echo
echo "replicas:"
for port in $PORTS; do echo "  http://127.0.0.1:$port"; done
echo
first="${PORTS%% *}"
echo "try: curl -s -X POST http://127.0.0.1:$first/events -H 'content-type: application/json' \\"
echo "       -d '{\"source_app\":\"demo\",\"session_id\":\"s1\",\"hook_event_type\":\"Stop\",\"payload\":{}}'"
echo "and watch it arrive on every replica's /stream (or dashboard). Ctrl-C stops everything."
wait
