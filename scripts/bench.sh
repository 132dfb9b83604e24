#!/usr/bin/env bash
# Load benchmark of Tessera on this machine (issues 6 and 16). Builds the release binary (or takes
# TESSERA_BENCH_BIN, skipping the build), starts it on a fresh SQLite database, seeds a user, and
# runs a fixed load against /healthz (the in-process ceiling), GET /api/auth/me,
# GET /api/auth/verify (with a bearer token, and with the session cookie of the `browser` client,
# whose idle timeout is checked on every use, and with a scoped API key in X-Api-Key and
# `?scope=`, and with `?jwt=true`) and POST /api/auth/login:
# keep-alive, wrk -t2 -c16, DURATION seconds each, in ROUNDS interleaved rounds (default 3).
# Prints one table: the medians over the rounds of req/s, p50, p99, of each row's ratio to
# /healthz within its round, and the server's CPU per request (utime + stime from
# /proc/PID/stat around each wrk run, divided by the requests wrk counted) with its ratio to
# /healthz's; then the Argon2 bound (cores / one login's time on one connection) and the server's
# peak RSS.
#
# With --pg the whole run is against PostgreSQL (127.0.0.1:5432, user postgres, trust auth; a
# database tessera_bench made afresh) instead of SQLite, and the table adds PostgreSQL's own CPU
# per request (all processes named `postgres`).
#
# With --flood it also measures verification during a login flood (64 connections logging in as
# fast as they can, login throttles raised), twice in the same run: with the Argon2 workers at
# their nice value (10) and reniced to 0 as they ran before, each against quiet verification.
#
# With --cold N it seeds N sessions, K of them with known tokens (--cold-tokens K, default
# 100,000), and measures verification cycling through those tokens (so the cache rarely hits:
# its hits and misses come from /metrics) as a share of cached verification. The two wrk
# threads start half the list apart, so a token comes round again after about K/2 requests; when
# that is sooner than the cache TTL (10 s) it hits, so --cold-tokens N (with N large enough)
# makes every request a miss.
#
# With --purge N, after the table, it seeds a fresh database (of the run's backend) with N
# sessions of which min(1,000,000, N/2) have expired, starts the server (whose first purge runs at
# once), verifies under load (wrk -t2 -c16) from the moment it answers until it logs
# `expired sessions purged`, then quietly for DURATION; prints the purge's duration and rows/s,
# and verify's req/s and p99 during the purge against after it (target: p99 during the purge
# <= 10 ms).
#
# With --instances (PostgreSQL, database tessera_bench2, and Redis on 127.0.0.1:6379 with a key
# prefix of its own) it starts two instances A and B on one database and measures verify on A
# alone (-t2 -c16), on both at once (-t1 -c8 each; aggregate req/s and its ratio to one), and,
# under that load again, the revocation delay: 200 tokens, each verified on B, logged out on A,
# then polled on B until it answers 401 (p50, p99, max; target: p99 <= 100 ms).
#
# Last, it shows the warnings and errors the servers logged. Databases made on PostgreSQL are
# dropped, and the Redis keys removed, at exit.
#
#   scripts/bench.sh [--sessions N] [--duration SECONDS] [--rounds R] [--flood] [--cold N [--cold-tokens K]] [--purge N] [--pg] [--instances]
set -euo pipefail
cd "$(dirname "$0")/.."
USAGE="usage: $0 [--sessions N] [--duration SECONDS] [--rounds R] [--flood] [--cold N [--cold-tokens K]] [--purge N] [--pg] [--instances]"
SESSIONS=0; DURATION=10; ROUNDS=3; FLOOD=0; COLD=0; COLD_TOKENS=100000; PURGE=0; BACKEND=sqlite; INSTANCES=0
number() { case "$1" in '' | *[!0-9]*) echo "$USAGE" >&2; exit 2 ;; esac; }
while [ $# -gt 0 ]; do
  case "$1" in
    --flood) FLOOD=1; shift ;;
    --pg) BACKEND=pg; shift ;;
    --instances) INSTANCES=1; shift ;;
    --cold) number "${2:-}"; COLD="$2"; shift 2 ;;
    --cold-tokens) number "${2:-}"; COLD_TOKENS="$2"; shift 2 ;;
    --purge) number "${2:-}"; PURGE="$2"; shift 2 ;;
    --sessions) number "${2:-}"; SESSIONS="$2"; shift 2 ;;
    --duration) number "${2:-}"; DURATION="$2"; shift 2 ;;
    --rounds) number "${2:-}"; ROUNDS="$2"; shift 2 ;;
    *) echo "$USAGE" >&2; exit 2 ;;
  esac
done
if [ "$DURATION" -le 0 ] || [ "$ROUNDS" -le 0 ]; then echo "$USAGE" >&2; exit 2; fi
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
PG_ADMIN=(psql -h 127.0.0.1 -U postgres -X -q -v ON_ERROR_STOP=1 -d postgres)
USES_PG=0
if [ "$BACKEND" = pg ] || [ "$INSTANCES" = 1 ]; then
  USES_PG=1
  "${PG_ADMIN[@]}" -c 'SELECT 1' >/dev/null || { echo "--pg and --instances need PostgreSQL on 127.0.0.1:5432 (user postgres)" >&2; exit 1; }
fi
if [ "$INSTANCES" = 1 ]; then
  (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null || { echo "--instances needs Redis on 127.0.0.1:6379" >&2; exit 1; }
fi
if [ -n "${TESSERA_BENCH_BIN:-}" ]; then
  BIN=$TESSERA_BENCH_BIN
  [ -x "$BIN" ] || { echo "TESSERA_BENCH_BIN=$BIN is not an executable" >&2; exit 1; }
else
  cargo build --release -q -p server
  BIN=target/release/tessera
fi
WORK=$(mktemp -d); PORT=18300; B=http://127.0.0.1:$PORT
BG=()        # every server and wrk started in the background
PG_DBS=()    # PostgreSQL databases made by this run
REDIS_PREFIX=
cleanup() {
  local pid db
  for pid in ${BG[@]+"${BG[@]}"}; do kill "$pid" 2>/dev/null || true; done
  for pid in ${BG[@]+"${BG[@]}"}; do wait "$pid" 2>/dev/null || true; done
  for db in ${PG_DBS[@]+"${PG_DBS[@]}"}; do
    "${PG_ADMIN[@]}" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  if [ -n "$REDIS_PREFIX" ] && command -v redis-cli >/dev/null; then
    redis-cli -h 127.0.0.1 --scan --pattern "$REDIS_PREFIX*" | xargs -r -d '\n' redis-cli -h 127.0.0.1 del >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export TESSERA_LOG=warn TESSERA_BOOTSTRAP_ADMIN=bench:bench-password
export TESSERA_LOGIN_RATE_PER_IP=1000000/s TESSERA_LOGIN_RATE_PER_USERNAME=1000000/s
meta() { echo "$1=$2" >> "$WORK/meta"; }   # facts for the report

fresh_db() { # backend, name: makes an empty, migrated database and sets DB_URL to it
  if [ "$1" = pg ]; then
    "${PG_ADMIN[@]}" -c 'SET client_min_messages = warning' -c "DROP DATABASE IF EXISTS $2 WITH (FORCE)" -c "CREATE DATABASE $2"
    PG_DBS+=("$2")
    DB_URL="postgres://postgres@127.0.0.1:5432/$2"
  else
    DB_URL="sqlite://$WORK/$2.db?mode=rwc"
  fi
  TESSERA_DATABASE_URL=$DB_URL "$BIN" migrate >/dev/null   # also seeds the default clients
}
seed() { python3 scripts/bench_seed.py "$DB_URL" "$@"; }
start_server() { # variable, port, log file, extra VAR=value…: serves DB_URL, sets the variable to its pid
  local var=$1 port=$2 log=$3 pid; shift 3
  env TESSERA_BIND="127.0.0.1:$port" TESSERA_DATABASE_URL="$DB_URL" "$@" "$BIN" serve 2>>"$log" &
  pid=$!; BG+=("$pid"); printf -v "$var" %s "$pid"
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "the server on port $port did not start; its log:" >&2; tail -20 "$log" >&2; exit 1
}
expired_left() { # sessions of DB_URL whose expiry has passed
  local now=$(( $(date +%s) * 1000000 )) q
  q="SELECT count(*) FROM sessions WHERE expiry <= $now"
  if [ "$BACKEND" = pg ]; then psql "$DB_URL" -X -At -c "$q"
  else python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$WORK/tessera_bench_purge.db" "$q"
  fi
}
stop_server() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
login() { # base URL, client: prints a token
  curl -sf "$1/api/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"bench\",\"password\":\"bench-password\",\"client\":\"$2\"}" | python3 -c 'import sys,json;print(json.load(sys.stdin)["token"])'
}
cpu_ticks() { # pid: its utime + stime, in clock ticks (the name in field 2 may hold spaces)
  local s f
  s=$(< "/proc/$1/stat")
  read -r -a f <<< "${s##*) }"
  echo $(( f[11] + f[12] ))
}
pg_ticks() { # utime + stime of every process named postgres (0 when PostgreSQL is not in use)
  local total=0 p c s f
  if [ "$USES_PG" = 1 ]; then
    for p in /proc/[0-9]*; do
      { read -r c < "$p/comm"; } 2>/dev/null || continue
      [ "$c" = postgres ] || continue
      { s=$(< "$p/stat"); } 2>/dev/null || continue
      read -r -a f <<< "${s##*) }"
      total=$(( total + f[11] + f[12] ))
    done
  fi
  echo "$total"
}
run() { # name, wrk args…: wrk into $WORK/name.out, CPU ticks of the server $PID and PostgreSQL into name.cpu
  local name=$1 s0 p0; shift
  s0=$(cpu_ticks "$PID"); p0=$(pg_ticks)
  wrk --latency "$@" > "$WORK/$name.out"
  echo "$(( $(cpu_ticks "$PID") - s0 )) $(( $(pg_ticks) - p0 ))" > "$WORK/$name.cpu"
}
meta backend "$BACKEND"; meta cores "$(nproc)"; meta clk_tck "$(getconf CLK_TCK)"
meta sessions "$SESSIONS"; meta flood "$FLOOD"; meta duration "$DURATION"; meta rounds "$ROUNDS"

fresh_db "$BACKEND" tessera_bench
if [ "$SESSIONS" -gt 0 ]; then
  echo "seeding $SESSIONS sessions…"
  seed --user filler --live "$SESSIONS"
fi
if [ "$COLD" -gt 0 ]; then
  echo "seeding $COLD sessions, $COLD_TOKENS with known tokens…"
  seed --user cold --client cli --live "$COLD" --tokens "$WORK/tokens.txt" --known $(( COLD < COLD_TOKENS ? COLD : COLD_TOKENS ))
  cat > "$WORK/cold.lua" <<LUA
-- Each wrk thread has a Lua state of its own and the same unseeded math.random, so a random
-- start put both threads on the same token in lockstep (every second request a hit). Instead
-- setup() numbers the threads and each starts 1/2 of the list after the other (-t2).
local tokens = {}
for line in io.lines("$WORK/tokens.txt") do tokens[#tokens + 1] = line end
local threads = 0
setup = function(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local i
request = function()
  i = (i or tid * math.floor(#tokens / 2)) % #tokens + 1
  return wrk.format("GET", "/api/auth/verify", { ["Authorization"] = "Bearer " .. tokens[i] })
end
LUA
fi
start_server PID "$PORT" "$WORK/server.log"
TOKEN=$(login $B cli)
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

# The cached rows in ROUNDS interleaved rounds (healthz, me, verify, …, then again): this
# machine's speed drifts by ±15 % from one minute to the next, so each row's share of /healthz
# is taken within its round and the report shows the median over the rounds.
for r in $(seq 1 "$ROUNDS"); do
  run "healthz_r$r" -t2 -c16 -d"${DURATION}s" $B/healthz
  run "me_r$r" -t2 -c16 -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" $B/api/auth/me
  run "verify_r$r" -t2 -c16 -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" $B/api/auth/verify
  run "verify_cookie_r$r" -t2 -c16 -d"${DURATION}s" -H "Cookie: $COOKIE" $B/api/auth/verify
  run "verify_jwt_r$r" -t2 -c16 -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" "$B/api/auth/verify?jwt=true"
  run "verify_apikey_r$r" -t2 -c16 -d"${DURATION}s" -H "X-Api-Key: $APIKEY" "$B/api/auth/verify?scope=reports:read"
done
run argon2 -t1 -c1 -d5s -s "$WORK/login.lua" $B/api/auth/login
run login -t2 -c16 -d"${DURATION}s" -s "$WORK/login.lua" $B/api/auth/login
flood() { # label: verify (-t2 -c16) while 64 connections log in
  wrk -t1 -c64 -d"$((DURATION + 2))s" -s "$WORK/login.lua" $B/api/auth/login > "$WORK/flood_login_$1.out" &
  local flooder=$!
  BG+=("$flooder")
  sleep 1
  run "flood_$1" -t2 -c16 -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" $B/api/auth/verify
  wait $flooder
}
argon2_nice() { # set the nice value of the server's Argon2 worker threads
  for task in "/proc/$PID/task/"*; do
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
meta rss_kb "$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")"
stop_server "$PID"

if [ "$PURGE" -gt 0 ]; then
  EXPIRED=$(( PURGE / 2 < 1000000 ? PURGE / 2 : 1000000 ))
  fresh_db "$BACKEND" tessera_bench_purge
  echo "seeding $PURGE sessions for --purge, $EXPIRED of them expired…"
  seed --user filler --client cli --live $(( PURGE - EXPIRED )) --expired "$EXPIRED"
  meta purge_sessions "$PURGE"; meta purge_expired "$EXPIRED"; meta purge_batch "${TESSERA_PURGE_BATCH:-500}"
  meta purge_t_start "$(date +%s.%N)"
  start_server PID "$PORT" "$WORK/purge.log" TESSERA_LOG=warn,server::purge=info,server::startup=info
  TOKEN=$(login $B cli)
  S0=$(cpu_ticks "$PID"); P0=$(pg_ticks)
  meta purge_t_load "$(date +%s.%N)"
  # Verification under load until the purge is logged (at most 6 hours); SIGINT makes wrk stop
  # and report.
  wrk --latency -t2 -c16 -d21600s -H "Authorization: Bearer $TOKEN" $B/api/auth/verify > "$WORK/purge_during.out" &
  WRK=$!; BG+=("$WRK")
  TICKS=0
  until grep -q 'expired sessions purged' "$WORK/purge.log"; do
    if grep -q 'expired-session purge failed' "$WORK/purge.log"; then
      grep 'purge failed' "$WORK/purge.log" >&2; exit 1
    fi
    kill -0 "$WRK" 2>/dev/null || { echo "the purge did not finish within 6 hours" >&2; exit 1; }
    sleep 0.05
    TICKS=$(( TICKS + 1 ))
    if [ $(( TICKS % 1200 )) = 0 ]; then   # about every minute
      echo "purge still running after $(( TICKS / 20 )) s: $(expired_left) expired sessions left"
    fi
  done
  kill -INT "$WRK"; wait "$WRK"
  echo "$(( $(cpu_ticks "$PID") - S0 )) $(( $(pg_ticks) - P0 ))" > "$WORK/purge_during.cpu"
  run purge_after -t2 -c16 -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" $B/api/auth/verify
  stop_server "$PID"
fi

if [ "$INSTANCES" = 1 ]; then
  fresh_db pg tessera_bench2
  REDIS_PREFIX="bench-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n'):"
  SHARED=(TESSERA_REDIS_URL=redis://127.0.0.1:6379 "TESSERA_REDIS_PREFIX=$REDIS_PREFIX")
  PORT_A=18301; PORT_B=18302; BA=http://127.0.0.1:$PORT_A; BB=http://127.0.0.1:$PORT_B
  start_server PID_A $PORT_A "$WORK/a.log" "${SHARED[@]}"
  start_server PID_B $PORT_B "$WORK/b.log" "${SHARED[@]}"
  echo "logging in 200 times on A for the revocation probe…"
  python3 scripts/bench_revocation_delay.py tokens 127.0.0.1:$PORT_A 200 "$WORK/revoke_tokens.txt"
  TOKEN=$(login $BA cli)
  PID=$PID_A
  run inst_one -t2 -c16 -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" $BA/api/auth/verify
  both() { # name, duration: one wrk -t1 -c8 per instance, in the background (WRK_A, WRK_B)
    wrk --latency -t1 -c8 -d"$2" -H "Authorization: Bearer $TOKEN" $BA/api/auth/verify > "$WORK/$1_a.out" &
    WRK_A=$!; BG+=("$WRK_A")
    wrk --latency -t1 -c8 -d"$2" -H "Authorization: Bearer $TOKEN" $BB/api/auth/verify > "$WORK/$1_b.out" &
    WRK_B=$!; BG+=("$WRK_B")
  }
  S0=$(( $(cpu_ticks "$PID_A") + $(cpu_ticks "$PID_B") )); P0=$(pg_ticks)
  both inst_both "${DURATION}s"
  wait "$WRK_A" "$WRK_B"
  echo "$(( $(cpu_ticks "$PID_A") + $(cpu_ticks "$PID_B") - S0 )) $(( $(pg_ticks) - P0 ))" > "$WORK/inst_both.cpu"
  echo "probing the revocation delay under load…"
  both inst_probe 3600s
  sleep 1
  python3 scripts/bench_revocation_delay.py probe 127.0.0.1:$PORT_A 127.0.0.1:$PORT_B "$WORK/revoke_tokens.txt" "$WORK/revocation.json"
  kill -INT "$WRK_A" "$WRK_B"; wait "$WRK_A" "$WRK_B"
  stop_server "$PID_A"; stop_server "$PID_B"
fi

python3 scripts/bench_report.py "$WORK"
