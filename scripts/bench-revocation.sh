#!/usr/bin/env bash
# Issue 12's measurements, side by side in one run:
#  1. login throughput of this build (security events on) against an earlier build
#     (OLD_BIN, e.g. the release before events), wrk -t2 -c16 for DURATION seconds each;
#  2. a bulk revocation of N seeded sessions on SQLite, timed, while wrk keeps calling
#     /api/auth/verify with a surviving token (its p99 and errors show the server kept answering).
#   scripts/bench-revocation.sh [--sessions N] [--duration S] [--old-bin PATH]
set -euo pipefail
cd "$(dirname "$0")/.."
N=100000; DURATION=10; OLD_BIN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --sessions) N="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --old-bin) OLD_BIN="$2"; shift 2 ;;
    *) echo "usage: $0 [--sessions N] [--duration S] [--old-bin PATH]" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p server
BIN=target/release/tessera
WORK=$(mktemp -d); PORT=18310; B=http://127.0.0.1:$PORT
trap 'kill "${PID:-0}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
export TESSERA_BIND=127.0.0.1:$PORT TESSERA_LOG=warn TESSERA_BOOTSTRAP_ADMIN=bench:bench-password
export TESSERA_LOGIN_RATE_PER_IP=1000000/s TESSERA_LOGIN_RATE_PER_USERNAME=1000000/s
cat > "$WORK/login.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"username":"bench","password":"bench-password","client":"web"}'
wrk.headers["Content-Type"] = "application/json"
LUA

start() { # binary, database file
  TESSERA_DATABASE_URL="sqlite://$2?mode=rwc" "$1" serve & PID=$!
  for _ in $(seq 1 100); do curl -sf $B/healthz >/dev/null && return; sleep 0.1; done
  echo "server did not start" >&2; exit 1
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=; }
rps() { awk '/Requests\/sec/ {print $2}' "$1"; }

echo "== login throughput (events on) vs ${OLD_BIN:-no older build given}"
for round in 1 2; do
  for bin in "$BIN" ${OLD_BIN:+"$OLD_BIN"}; do
    start "$bin" "$WORK/login-$round-$(basename "$bin").db"
    wrk -t2 -c16 -d"${DURATION}s" -s "$WORK/login.lua" $B/api/auth/login > "$WORK/login.out"
    echo "round $round $(basename "$bin"): $(rps "$WORK/login.out") logins/s"
    stop
  done
done

echo "== bulk revocation of $N sessions (SQLite)"
DB="$WORK/bulk.db"
TESSERA_DATABASE_URL="sqlite://$DB?mode=rwc" "$BIN" migrate >/dev/null
start "$BIN" "$DB"; stop   # seeds the default clients and the admin
python3 - "$DB" "$N" <<'PY'
import os, sqlite3, sys, time, uuid
db, n = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db)
now = int(time.time() * 1e6)
c.execute("INSERT INTO users (username, password_hash, is_active, is_admin, created) VALUES ('filler', 'x', 1, 0, ?)", (now,))
uid = c.execute("SELECT id FROM users WHERE username = 'filler'").fetchone()[0]
cid = c.execute("SELECT id FROM clients WHERE name = 'mobile'").fetchone()[0]
rows = ((str(uuid.uuid4()), uid, cid, now, now, now, now + 86400 * 10**6, now, os.urandom(32).hex()) for _ in range(n))
c.executemany("INSERT INTO sessions (id, kind, user_id, client_id, device_name, user_agent, created, last_used, renewed, expiry, authenticated_at, token_digest, token_hint) "
              "VALUES (?, 'session', ?, ?, 'seed', '', ?, ?, ?, ?, ?, ?, 'tss_seed')", rows)
c.commit()
PY
start "$BIN" "$DB"
ADMIN=$(curl -sf $B/api/auth/login -H 'content-type: application/json' \
  -d '{"username":"bench","password":"bench-password","client":"web"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["token"])')
wrk --latency -t1 -c8 -d8s -H "Authorization: Bearer $ADMIN" $B/api/auth/verify > "$WORK/during.out" &
WRK=$!
sleep 2
T0=$(date +%s.%N)
RES=$(curl -sf $B/api/admin/revocations -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' -d '{"client":"mobile"}')
T1=$(date +%s.%N)
wait $WRK
echo "revoked: $RES in $(python3 -c "print(f'{$T1 - $T0:.2f}')") s"
echo "verify meanwhile: $(rps "$WORK/during.out") req/s, p99 $(awk '/ 99%/ {print $2}' "$WORK/during.out"), non-2xx: $(awk '/Non-2xx/ {print $5}' "$WORK/during.out" | grep . || echo 0)"
stop
