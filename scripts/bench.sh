#!/usr/bin/env bash
# Load benchmark of Tessera on this machine (issue 6's table). Builds the release binary, starts
# it on a fresh SQLite database, seeds a user, and runs a fixed load against /healthz (the
# in-process ceiling), GET /api/auth/me, GET /api/auth/verify (with a bearer token, and with the
# session cookie of the `browser` client, whose idle timeout is checked on every use, and with a
# scoped API key in X-Api-Key and `?scope=`, and with `?jwt=true`) and
# POST /api/auth/login:
# keep-alive, wrk -t2 -c16, DURATION seconds each. Prints req/s, p50, p99, the ratio of each to
# /healthz from the same run, the Argon2 bound (cores / one login's time on one connection),
# and the server's peak RSS.
#
# With --flood it also measures verification during a login flood (64 connections logging in as
# fast as they can, login throttles raised), twice in the same run: with the Argon2 workers at
# their nice value (10) and reniced to 0 as they ran before, each against quiet verification.
#
# With --cold N it seeds N sessions, 100,000 of them with known tokens, and measures verification
# cycling through those tokens (so the cache rarely hits: its hits and misses come from
# /metrics) as a share of cached verification.
#
#   scripts/bench.sh [--sessions N] [--duration SECONDS] [--flood] [--cold N]
set -euo pipefail
cd "$(dirname "$0")/.."
SESSIONS=0; DURATION=10; FLOOD=0; COLD=0
while [ $# -gt 0 ]; do
  case "$1" in
    --flood) FLOOD=1; shift ;;
    --cold) COLD="$2"; shift 2 ;;
    --sessions) SESSIONS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    *) echo "usage: $0 [--sessions N] [--duration SECONDS] [--flood] [--cold N]" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p server
BIN=target/release/tessera
WORK=$(mktemp -d); PORT=18300; B=http://127.0.0.1:$PORT
trap 'kill "${PID:-0}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
export TESSERA_DATABASE_URL="sqlite://$WORK/bench.db?mode=rwc" TESSERA_BIND=127.0.0.1:$PORT TESSERA_LOG=warn
export TESSERA_BOOTSTRAP_ADMIN=bench:bench-password TESSERA_LOGIN_RATE_PER_IP=1000000/s TESSERA_LOGIN_RATE_PER_USERNAME=1000000/s

"$BIN" migrate >/dev/null
if [ "$SESSIONS" -gt 0 ]; then
  echo "seeding $SESSIONS sessions…"
  python3 - "$WORK/bench.db" "$SESSIONS" <<'PY'
import os, sqlite3, sys, time, uuid
db, n = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db)
now = int(time.time() * 1e6)
c.execute("INSERT OR IGNORE INTO users (username, password_hash, is_active, is_admin, created) VALUES ('filler', 'x', 1, 0, ?)", (now,))
uid = c.execute("SELECT id FROM users WHERE username = 'filler'").fetchone()[0]
if not c.execute("SELECT 1 FROM clients").fetchone():
    c.execute("INSERT INTO clients (name, description, token_ttl, auto_renew, created) VALUES ('web', '', 86400, 0, ?)", (now,))
cid = c.execute("SELECT id FROM clients ORDER BY id LIMIT 1").fetchone()[0]
rows = ((str(uuid.uuid4()), uid, cid, now, now, now, now + 86400 * 10**6, os.urandom(32).hex()) for _ in range(n))
c.executemany("INSERT INTO sessions (id, kind, user_id, client_id, device_name, user_agent, created, last_used, renewed, expiry, token_digest, token_hint) "
              "VALUES (?, 'session', ?, ?, 'seed', '', ?, ?, ?, ?, ?, 'tss_seed')", rows)
c.commit()
PY
fi
if [ "$COLD" -gt 0 ]; then
  echo "seeding $COLD sessions, 100,000 with known tokens…"
  python3 - "$WORK/bench.db" "$COLD" "$WORK/tokens.txt" <<'PY'
import hashlib, os, sqlite3, sys, time, uuid, zlib
db, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
A = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
def b62(x, width):
    s = ""
    while x:
        x, r = divmod(x, 62); s = A[r] + s
    return s.rjust(width, "0")
def token():
    body = "tss_" + "".join(A[b % 62] for b in os.urandom(32))
    return body + b62(zlib.crc32(body.encode()), 6)
c = sqlite3.connect(db)
now = int(time.time() * 1e6)
c.execute("INSERT OR IGNORE INTO users (username, password_hash, is_active, is_admin, created) VALUES ('cold', 'x', 1, 0, ?)", (now,))
uid = c.execute("SELECT id FROM users WHERE username = 'cold'").fetchone()[0]
cid = c.execute("SELECT id FROM clients WHERE name = 'cli'").fetchone()[0]
known = min(n, 100_000)
with open(out, "w") as f:
    def rows():
        for i in range(n):
            if i < known:
                t = token(); f.write(t + "\n"); digest = hashlib.sha256(t.encode()).hexdigest()
            else:
                digest = os.urandom(32).hex()
            yield (str(uuid.uuid4()), uid, cid, now, now, now, now, now + 86400 * 10**6, digest)
    c.executemany("INSERT INTO sessions (id, kind, user_id, client_id, device_name, user_agent, created, last_used, renewed, authenticated_at, expiry, token_digest, token_hint) "
                  "VALUES (?, 'session', ?, ?, 'seed', '', ?, ?, ?, ?, ?, ?, 'tss_seed')", rows())
c.commit()
PY
  cat > "$WORK/cold.lua" <<LUA
local tokens = {}
for line in io.lines("$WORK/tokens.txt") do tokens[#tokens + 1] = line end
local i = math.random(#tokens)
request = function()
  i = i % #tokens + 1
  return wrk.format("GET", "/api/auth/verify", { ["Authorization"] = "Bearer " .. tokens[i] })
end
LUA
fi
"$BIN" serve & PID=$!
for _ in $(seq 1 100); do curl -sf $B/healthz >/dev/null && break; sleep 0.1; done
TOKEN=$(curl -sf $B/api/auth/login -H 'content-type: application/json' \
  -d '{"username":"bench","password":"bench-password","client":"cli"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["token"])')
# The browser client's token arrives only as a cookie.
COOKIE=$(curl -sf -D - -o /dev/null $B/api/auth/login -H 'content-type: application/json' \
  -d '{"username":"bench","password":"bench-password","client":"browser"}' \
  | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(__Host-tessera=[^;]*\).*/\1/p')
[ -n "$COOKIE" ] || { echo "no session cookie from the browser client" >&2; exit 1; }
# A scoped API key, verified through X-Api-Key with a scope check.
APIKEY=$(curl -sf $B/api/auth/apikeys -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d '{"name":"bench","scopes":["reports:read"]}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["token"])')
cat > "$WORK/login.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"username":"bench","password":"bench-password","client":"web"}'
wrk.headers["Content-Type"] = "application/json"
LUA

run() { # name, extra wrk args…
  local name=$1; shift
  wrk --latency "$@" > "$WORK/$name.out"
}
run healthz -t2 -c16 -d"${DURATION}s" $B/healthz
run me -t2 -c16 -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" $B/api/auth/me
run verify -t2 -c16 -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" $B/api/auth/verify
run verify_cookie -t2 -c16 -d"${DURATION}s" -H "Cookie: $COOKIE" $B/api/auth/verify
run verify_jwt -t2 -c16 -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" "$B/api/auth/verify?jwt=true"
run verify_apikey -t2 -c16 -d"${DURATION}s" -H "X-Api-Key: $APIKEY" "$B/api/auth/verify?scope=reports:read"
run argon2 -t1 -c1 -d5s -s "$WORK/login.lua" $B/api/auth/login
run login -t2 -c16 -d"${DURATION}s" -s "$WORK/login.lua" $B/api/auth/login
flood() { # label: verify (-t2 -c16) while 64 connections log in
  wrk -t1 -c64 -d"$((DURATION + 2))s" -s "$WORK/login.lua" $B/api/auth/login > "$WORK/flood_login_$1.out" &
  local flooder=$!
  sleep 1
  run "flood_$1" -t2 -c16 -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" $B/api/auth/verify
  wait $flooder
}
argon2_nice() { # set the nice value of the server's Argon2 worker threads
  for task in /proc/$PID/task/*; do
    if grep -q '^argon2' "$task/comm"; then renice -n "$1" -p "${task##*/}" >/dev/null; fi
  done
}
metric() { curl -sf $B/metrics | awk -v m="$1" '$1 == m {print $2}'; }
if [ "$COLD" -gt 0 ]; then
  HITS0=$(metric tessera_verification_cache_hits_total); MISSES0=$(metric tessera_verification_cache_misses_total)
  run verify_cold -t2 -c16 -d"${DURATION}s" -s "$WORK/cold.lua" $B/api/auth/verify
  HITS=$(( $(metric tessera_verification_cache_hits_total) - HITS0 ))
  MISSES=$(( $(metric tessera_verification_cache_misses_total) - MISSES0 ))
  echo "$HITS $MISSES" > "$WORK/cold_cache.txt"
fi
if [ "$FLOOD" = 1 ]; then
  flood nice10
  argon2_nice 0
  flood nice0
  argon2_nice 10
fi
RSS=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)

python3 - "$WORK" "$(nproc)" "$RSS" "$SESSIONS" "$FLOOD" <<'PY'
import re, sys
work, cores, rss_kb, sessions, flood = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5] == "1"
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", v)
    if not m:
        print(f"(unreadable wrk latency {v!r})", file=sys.stderr)
        return float("nan")
    n, unit = m.groups()
    return float(n) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]
def parse(name):
    t = open(f"{work}/{name}.out").read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    p50 = ms(re.search(r"50%\s+(\S+)", t).group(1)); p99 = ms(re.search(r"99%\s+(\S+)", t).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    return rps, p50, p99, int(errors.group(1)) if errors else 0
base = parse("healthz")[0]
one_login_ms = ms(re.search(r"Latency\s+(\S+)", open(f"{work}/argon2.out").read()).group(1))
bound = cores / (one_login_ms / 1000)
print(f"\nTessera benchmark: {cores} cores, {sessions} seeded sessions, wrk -t2 -c16 keep-alive\n")
print(f"| endpoint | req/s | p50 ms | p99 ms | vs /healthz | non-2xx |")
print(f"|---|---|---|---|---|---|")
for name, label in [("healthz", "GET /healthz"), ("me", "GET /api/auth/me"), ("verify", "GET /api/auth/verify"), ("verify_cookie", "GET /api/auth/verify (cookie)"), ("verify_apikey", "GET /api/auth/verify?scope= (X-Api-Key)"), ("verify_jwt", "GET /api/auth/verify?jwt=true"), ("login", "POST /api/auth/login")]:
    rps, p50, p99, errors = parse(name)
    print(f"| {label} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {100 * rps / base:.1f} % | {errors} |")
login = parse("login")[0]
print(f"\nverify?jwt=true reaches {100 * parse('verify_jwt')[0] / parse('verify')[0]:.1f} % of verify in the same run")
print(f"\nArgon2 bound: {cores} cores / {one_login_ms:.1f} ms per login = {bound:.0f} logins/s; login reaches {100 * login / bound:.0f} % of it")
print(f"Peak RSS of the server: {rss_kb / 1024:.1f} MB")
import os
if os.path.exists(f"{work}/cold_cache.txt"):
    hits, misses = map(int, open(f"{work}/cold_cache.txt").read().split())
    rps, p50, p99, errors = parse("verify_cold")
    cached = parse("verify")[0]
    print(f"\nCold cache (100,000 known tokens among the seeded sessions, cycled): {rps:,.0f} req/s = {100 * rps / cached:.1f} % of cached verify, "
          f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, {errors} non-2xx, cache misses {100 * misses / max(1, hits + misses):.0f} % of {hits + misses:,} verifications")
if flood:
    quiet = parse("verify")
    print(f"\nVerification during a login flood (64 connections), against quiet verify ({quiet[0]:,.0f} req/s, p99 {quiet[2]:.2f} ms):\n")
    print("| Argon2 workers | verify req/s | vs quiet | verify p99 ms | logins/s meanwhile |")
    print("|---|---|---|---|---|")
    for label, name in [("nice 10 (now)", "nice10"), ("nice 0 (as before)", "nice0")]:
        rps, p50, p99, errors = parse(f"flood_{name}")
        logins = float(re.search(r"Requests/sec:\s+([\d.]+)", open(f"{work}/flood_login_{name}.out").read()).group(1))
        print(f"| {label} | {rps:,.0f} | {100 * rps / quiet[0]:.1f} % | {p99:.2f} | {logins:,.0f} |")
PY
