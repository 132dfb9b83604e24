#!/usr/bin/env bash
# Faults against the real binary, as an operator's worst day would bring them (docs/operations.md,
# "When things fail"); run by CI beside the in-process fault tests (tests/api/faults.rs):
#   1. 1,100 idle connections under an open-file limit of 1024: /healthz is still answered;
#   2. SIGTERM with a request half sent: the process exits 0 within TESSERA_SHUTDOWN_TIMEOUT;
#   3. Redis killed under a running server: logins and rate-limited requests answer at once.
# Usage: scripts/faults.sh [path/to/tessera]
set -euo pipefail
BIN="$(realpath "${1:-target/debug/tessera}")"
WORK=$(mktemp -d)
port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
cleanup() { kill "${TPID:-0}" "${RPID:-0}" "${HPID:-0}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
passed=0

start() { # extra env…; starts tessera on $PORT with a fresh database, sets TPID
  PORT=$(port); B=http://127.0.0.1:$PORT
  rm -f "$WORK"/t.db*
  env TESSERA_DATABASE_URL="sqlite://$WORK/t.db?mode=rwc" TESSERA_BIND=127.0.0.1:$PORT TESSERA_LOG=warn \
    TESSERA_BOOTSTRAP_ADMIN=admin:adminpass123 "$@" "$BIN" >"$WORK/log" 2>&1 & TPID=$!
  for _ in $(seq 1 100); do curl -sf "$B/healthz" >/dev/null && return; sleep 0.1; done
  fail "the server did not start: $(cat "$WORK/log")"
}

# 1. Idle connections cannot exhaust the file limit: the cap stays below it.
PORT=$(port); B=http://127.0.0.1:$PORT
env TESSERA_DATABASE_URL="sqlite://$WORK/idle.db?mode=rwc" TESSERA_BIND=127.0.0.1:$PORT TESSERA_LOG=warn \
  prlimit --nofile=1024:1024 "$BIN" >"$WORK/log" 2>&1 & TPID=$!
for _ in $(seq 1 100); do curl -sf "$B/healthz" >/dev/null && break; sleep 0.1; done
python3 - "$PORT" <<'PY' & HPID=$!
import socket, sys, time
conns = []
for _ in range(1100):
    try:
        conns.append(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5))
    except OSError:
        break
time.sleep(20)
PY
sleep 3
started=$(date +%s.%N)
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 15 "$B/healthz" || true)
took=$(python3 -c "print(f'{$(date +%s.%N) - $started:.2f}')")
[ "$code" = 200 ] || fail "/healthz answered '$code' beside 1,100 idle connections"
# Promptly: at the cap, a connection that never sent a byte makes room (src/serve.rs).
python3 -c "import sys; sys.exit(0 if $took < 2 else 1)" || fail "/healthz took ${took}s beside idle connections"
echo "ok: /healthz answered in ${took}s beside 1,100 idle connections under a 1024-file limit"
passed=$((passed + 1))
kill "$HPID" 2>/dev/null || true; kill "$TPID"; wait "$TPID" 2>/dev/null || true

# 2. SIGTERM with a request half sent: exit 0 within the shutdown deadline.
start TESSERA_SHUTDOWN_TIMEOUT=2
python3 - "$PORT" <<'PY' & HPID=$!
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{")
time.sleep(30)
PY
sleep 0.5
started=$(date +%s.%N)
kill -TERM "$TPID"
rc=0; wait "$TPID" || rc=$?
took=$(python3 -c "print(f'{$(date +%s.%N) - $started:.2f}')")
[ "$rc" = 0 ] || fail "exit status $rc after SIGTERM"
python3 -c "import sys; sys.exit(0 if $took < 5 else 1)" || fail "SIGTERM took ${took}s with a 2 s deadline"
grep -q "shutdown deadline passed" "$WORK/log" || fail "no deadline line: $(cat "$WORK/log")"
echo "ok: SIGTERM with a half-sent request exited 0 in ${took}s (deadline 2 s)"
passed=$((passed + 1))
kill "$HPID" 2>/dev/null || true

# 3. Redis killed under a running server: answers stay prompt.
RPORT=$(port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no >/dev/null 2>&1 & RPID=$!
for _ in $(seq 1 50); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
start TESSERA_REDIS_URL="redis://127.0.0.1:$RPORT" TESSERA_LOGIN_RATE_PER_IP=1000/m
login() { curl -s -o /dev/null -w '%{http_code} %{time_total}' "$B/api/auth/login" -H 'content-type: application/json' \
  -d '{"username":"admin","password":"adminpass123","client":"web"}'; echo; }
read -r code _ < <(login); [ "$code" = 200 ] || fail "login with Redis up: $code"
kill -9 "$RPID"; wait "$RPID" 2>/dev/null || true
for i in 1 2 3 4 5; do
  read -r code took < <(login)
  [ "$code" = 200 ] || fail "login $i with Redis dead: $code"
  python3 -c "import sys; sys.exit(0 if $took < 1.0 else 1)" || fail "login $i with Redis dead took ${took}s"
done
curl -s "$B/metrics" | grep -q '^tessera_budget_backend_up 0' || fail "budget_backend_up is not 0"
echo "ok: with Redis killed, logins answered at once and tessera_budget_backend_up is 0"
passed=$((passed + 1))

echo "faults: $passed passed, 0 failed"
