#!/usr/bin/env bash
# Instructions per request of the cached hot paths, counted by callgrind (issue 16's profile).
#
#   scripts/profile.sh [--requests N] [--keep DIR] [BINARY]
#
# Starts BINARY (default: a release build, made here) under `valgrind --tool=callgrind` with
# instrumentation off, on a fresh SQLite database; logs in (a bearer `cli` session, a `browser`
# cookie session, a scoped API key); then for each endpoint sends 20 warm-up requests and N
# counted ones (default 2,000) on one keep-alive connection, switching instrumentation on only
# around the counted ones. Callgrind counts instructions, not time, so the figures repeat for the
# same binary and inputs whatever else the machine is doing (valgrind's CPU has no SHA
# extensions, so SHA-256 counts more than it costs natively). With --keep DIR the profiles stay
# in DIR, one per endpoint in the order printed (callgrind_annotate --inclusive=yes DIR/cg.out.2).
set -euo pipefail
cd "$(dirname "$0")/.."

N=2000
KEEP=
while [ $# -gt 0 ]; do
  case $1 in
    --requests) N=$2; shift 2 ;;
    --keep) KEEP=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ $# -gt 0 ]; then
  BIN=$1
else
  cargo build --release -q -p server
  BIN=target/release/tessera
fi
BIN=$(realpath "$BIN")
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }

WORK=${KEEP:-$(mktemp -d)}
mkdir -p "$WORK"
rm -f "$WORK"/cg.out*
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
B=http://127.0.0.1:$PORT
VG=
cleanup() {
  [ -n "$VG" ] && { kill "$VG" 2>/dev/null || true; wait "$VG" 2>/dev/null || true; }
  [ -n "$KEEP" ] || rm -rf "$WORK"
}
trap cleanup EXIT

export TESSERA_LOG=warn TESSERA_BOOTSTRAP_ADMIN=bench:bench-password
DB="sqlite://$WORK/profile.db?mode=rwc"
TESSERA_DATABASE_URL=$DB "$BIN" migrate >/dev/null
TESSERA_BIND=127.0.0.1:$PORT TESSERA_DATABASE_URL=$DB \
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$WORK/cg.out" \
  "$BIN" serve 2>"$WORK/server.log" &
VG=$!
for _ in $(seq 1 600); do
  curl -sf "$B/healthz" >/dev/null && break
  kill -0 "$VG" 2>/dev/null || { echo "the server did not start:" >&2; tail -20 "$WORK/server.log" >&2; exit 1; }
  sleep 0.2
done
login() { # client: the login response's headers and body
  curl -sf -D - "$B/api/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"bench\",\"password\":\"bench-password\",\"client\":\"$1\"}"
}
TOKEN=$(login cli | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
COOKIE=$(login browser | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(__Host-tessera=[^;]*\).*/\1/p')
APIKEY=$(curl -sf "$B/api/auth/apikeys" -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d '{"name":"profile","scopes":["reports:read"]}' | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[ -n "$TOKEN" ] && [ -n "$COOKIE" ] && [ -n "$APIKEY" ] || { echo "could not log in" >&2; exit 1; }

python3 - "$PORT" "$N" "$WORK" "$TOKEN" "$COOKIE" "$APIKEY" <<'PY'
import glob, http.client, os, re, subprocess, sys
port, n, work, token, cookie, apikey = sys.argv[1], int(sys.argv[2]), *sys.argv[3:]
bearer = {"Authorization": "Bearer " + token}
cases = [
    ("GET /healthz", "/healthz", {}),
    ("GET /api/auth/me", "/api/auth/me", bearer),
    ("GET /api/auth/verify", "/api/auth/verify", bearer),
    ("GET /api/auth/verify (cookie)", "/api/auth/verify", {"Cookie": cookie}),
    ("GET /api/auth/verify?scope= (X-Api-Key)", "/api/auth/verify?scope=reports:read", {"X-Api-Key": apikey}),
    ("GET /api/auth/verify?jwt=true", "/api/auth/verify?jwt=true", bearer),
]
conn = http.client.HTTPConnection("127.0.0.1", int(port))
def send(path, headers):
    conn.request("GET", path, headers=headers)
    res = conn.getresponse()
    res.read()
    if res.status != 200:
        sys.exit(f"{path}: HTTP {res.status}")
def control(*args):
    subprocess.run(["callgrind_control", *args], check=True, capture_output=True)
def counted():
    newest = max(glob.glob(os.path.join(work, "cg.out.*")), key=os.path.getmtime)
    return int(re.search(r"^totals:\s+(\d+)", open(newest).read(), re.M).group(1))
print(f"Instructions per request (callgrind, {n:,} requests each on one keep-alive connection)\n")
print("| endpoint | instructions/request | vs /healthz | added to /healthz |")
print("|---|---|---|---|")
base = None
for name, path, headers in cases:
    for _ in range(20):
        send(path, headers)
    control("-z")
    control("-i", "on")
    for _ in range(n):
        send(path, headers)
    control("-i", "off")
    control("-d")
    per = counted() / n
    base = base or per
    print(f"| {name} | {per:,.0f} | {100 * per / base:.0f} % | {per - base:,.0f} |")
PY
