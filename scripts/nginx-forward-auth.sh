#!/usr/bin/env bash
# Proves forward-auth behind a real nginx (auth_request → /api/auth/verify):
# 200 with identity headers forwarded upstream, 401, 403 for a denied client, 429 + Retry-After.
# Usage: scripts/nginx-forward-auth.sh [path/to/tessera]   (installs nginx from Debian if absent)
set -euo pipefail
BIN="${1:-target/debug/tessera}"
if ! command -v nginx >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
WORK=$(mktemp -d)
TPORT=18190; NPORT=18191; UPORT=18192
cleanup() { kill "${TPID:-0}" "${UPID:-0}" 2>/dev/null || true; "$NGINX" -p "$WORK" -c "$WORK/nginx.conf" -s stop 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

# Upstream: echoes the identity header nginx forwarded.
cat > "$WORK/upstream.py" <<'PY'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"user_id": self.headers.get("X-Auth-User-Id"), "client": self.headers.get("X-Auth-Client")}).encode()
        self.send_response(200); self.send_header("content-type", "application/json"); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
python3 "$WORK/upstream.py" $UPORT & UPID=$!

cat > "$WORK/nginx.conf" <<CONF
daemon on;
pid $WORK/nginx.pid;
error_log $WORK/error.log;
events {}
http {
  access_log off;
  client_body_temp_path $WORK; proxy_temp_path $WORK; fastcgi_temp_path $WORK; uwsgi_temp_path $WORK; scgi_temp_path $WORK;
  server {
    listen 127.0.0.1:$NPORT;
    location = /_tessera {
      internal;
      proxy_pass http://127.0.0.1:$TPORT/api/auth/verify?deny_clients=mobile;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
    }
    location /app/ {
      auth_request /_tessera;
      auth_request_set \$auth_user \$upstream_http_x_auth_user_id;
      auth_request_set \$auth_client \$upstream_http_x_auth_client;
      auth_request_set \$auth_status \$upstream_status;
      auth_request_set \$auth_retry \$upstream_http_retry_after;
      proxy_set_header X-Auth-User-Id \$auth_user;
      proxy_set_header X-Auth-Client \$auth_client;
      proxy_pass http://127.0.0.1:$UPORT;
      # auth_request only passes 401/403 on; anything else becomes 500, so 429 is restored here.
      error_page 500 = @auth_error;
    }
    location @auth_error {
      add_header Retry-After \$auth_retry always;
      if (\$auth_status = 429) { return 429 '{"code":"throttled"}'; }
      return 500;
    }
  }
}
CONF

export TESSERA_DATABASE_URL="sqlite://$WORK/t.db?mode=rwc" TESSERA_BIND=127.0.0.1:$TPORT TESSERA_LOG=warn
export TESSERA_BOOTSTRAP_ADMIN=admin:adminpass123
"$BIN" & TPID=$!
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:$TPORT/healthz >/dev/null && break; sleep 0.2; done
"$NGINX" -p "$WORK" -c "$WORK/nginx.conf"

login() { curl -sf http://127.0.0.1:$TPORT/api/auth/login -H 'content-type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"adminpass123\",\"client\":\"$1\"}" | python3 -c 'import sys,json;print(json.load(sys.stdin)["token"])'; }
CLI=$(login cli); MOBILE=$(login mobile); ADMIN=$(login web)
fail() { echo "FAIL: $*"; exit 1; }
code() { curl -s -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' "$@"; }

[ "$(code -H "Authorization: Bearer $CLI" http://127.0.0.1:$NPORT/app/x)" = 200 ] || fail "valid token not 200"
grep -q '"user_id": "1"' "$WORK/body" && grep -q '"client": "cli"' "$WORK/body" || fail "identity not forwarded: $(cat "$WORK/body")"
echo "ok: 200 with X-Auth-User-Id forwarded to the upstream"
[ "$(code http://127.0.0.1:$NPORT/app/x)" = 401 ] || fail "no token not 401"
[ "$(code -H 'Authorization: Bearer tss_nope' http://127.0.0.1:$NPORT/app/x)" = 401 ] || fail "bad token not 401"
echo "ok: 401 without or with a bad token"
[ "$(code -H "Authorization: Bearer $MOBILE" http://127.0.0.1:$NPORT/app/x)" = 403 ] || fail "denied client not 403"
echo "ok: 403 for a denied client"
curl -sf -X PATCH http://127.0.0.1:$TPORT/api/admin/clients/cli -H "Authorization: Bearer $ADMIN" \
  -H 'content-type: application/json' -d '{"throttle_rate":"2/m"}' >/dev/null
for _ in 1 2; do [ "$(code -H "Authorization: Bearer $CLI" http://127.0.0.1:$NPORT/app/x)" = 200 ] || fail "burst not 200"; done
[ "$(code -H "Authorization: Bearer $CLI" http://127.0.0.1:$NPORT/app/x)" = 429 ] || fail "over budget not 429"
grep -qi '^retry-after: 30' "$WORK/headers" || fail "no Retry-After: $(cat "$WORK/headers")"
echo "ok: 429 with Retry-After passed through"
echo "nginx forward-auth: 4 passed, 0 failed"
