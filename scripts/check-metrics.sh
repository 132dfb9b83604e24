#!/usr/bin/env bash
# Lints GET /metrics with `promtool check metrics` (parse errors and lint problems both fail) after
# a handful of requests have filled the series: healthz, a login, a bad login, /api/auth/me with
# and without a token. Starts the server on a free port with a fresh SQLite database.
# Usage: scripts/check-metrics.sh [path/to/tessera]   (installs promtool from Debian if absent)
set -euo pipefail
BIN="${1:-target/debug/tessera}"
if ! command -v promtool >/dev/null; then
  # Debian's `prometheus` package ships /usr/bin/promtool; recommends (node exporter) not needed.
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
PROMTOOL=$(command -v promtool || echo /usr/bin/promtool)
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
B=http://127.0.0.1:$PORT
cleanup() { kill "${TPID:-0}" 2>/dev/null || true; wait "${TPID:-0}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

export TESSERA_DATABASE_URL="sqlite://$WORK/t.db?mode=rwc" TESSERA_BIND=127.0.0.1:$PORT TESSERA_LOG=warn
export TESSERA_BOOTSTRAP_ADMIN=admin:adminpass123
export TESSERA_LOGIN_RATE_PER_IP=100000/s TESSERA_LOGIN_RATE_PER_USERNAME=100000/s
"$BIN" & TPID=$!
for _ in $(seq 1 50); do curl -sf $B/healthz >/dev/null && break; sleep 0.2; done
fail() { echo "FAIL: $*"; exit 1; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

[ "$(code $B/healthz)" = 200 ] || fail "healthz not 200"
TOKEN=$(curl -sf $B/api/auth/login -H 'content-type: application/json' \
  -d '{"username":"admin","password":"adminpass123","client":"web"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["token"])')
[ "$(code $B/api/auth/login -H 'content-type: application/json' \
  -d '{"username":"admin","password":"wrong-password","client":"web"}')" = 400 ] || fail "bad login not 400"
[ "$(code -H "Authorization: Bearer $TOKEN" $B/api/auth/me)" = 200 ] || fail "me with a token not 200"
[ "$(code $B/api/auth/me)" = 401 ] || fail "me without a token not 401"

# Ask for the classic text format (0.0.4), the only one promtool parses; OpenMetrics, if the
# server negotiates it, is for Prometheus itself.
curl -sf -D "$WORK/headers" -H 'Accept: text/plain;version=0.0.4' $B/metrics > "$WORK/metrics" || fail "GET /metrics"
grep -qi '^content-type: text/plain' "$WORK/headers" || fail "/metrics content type: $(grep -i '^content-type' "$WORK/headers")"
# Every metric name is ours, so no lint message is exempt: promtool exits 1 on a parse error and
# 3 on lint problems, and any output at all is a failure.
set +e
"$PROMTOOL" check metrics < "$WORK/metrics" > "$WORK/lint" 2>&1
RC=$?
set -e
if [ $RC -ne 0 ] || [ -s "$WORK/lint" ]; then
  echo "promtool check metrics (exit $RC):"; sed 's/^/  /' "$WORK/lint"
  fail "/metrics does not pass promtool"
fi
# The requests above must show up.
for series in 'tessera_logins_total{outcome="success"}' 'tessera_logins_total{outcome="invalid_credentials"}' \
              'route="/api/auth/me",status="401"' 'route="/api/auth/me",status="200"'; do
  grep -qF "$series" "$WORK/metrics" || fail "no series matching $series"
done
echo "ok: /metrics passes promtool check metrics ($(grep -c '^# TYPE' "$WORK/metrics") metrics, $(grep -vc '^#' "$WORK/metrics") samples)"
