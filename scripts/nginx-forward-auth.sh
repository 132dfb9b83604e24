#!/usr/bin/env bash
# Proves forward-auth behind a real nginx (auth_request → /api/auth/verify):
# 200 with identity headers forwarded upstream, 401, 403 for a denied client, 429 + Retry-After,
# and a path guarded by ?scope=reports:read: API keys holding the scope (in Authorization or
# X-Api-Key), unrestricted keys and sessions pass; a key without it gets 403 with
# WWW-Authenticate error="insufficient_scope".
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

# Upstream: echoes the identity headers nginx forwarded.
cat > "$WORK/upstream.py" <<'PY'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"user_id": self.headers.get("X-Auth-User-Id"), "client": self.headers.get("X-Auth-Client"),
                           "scopes": self.headers.get("X-Auth-Scopes")}).encode()
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
  # auth_request hands a 401's WWW-Authenticate to the client by itself, but not a 403's: this
  # is the 403's challenge (error="insufficient_scope"), and empty (no header) otherwise.
  map \$auth_status \$auth_challenge_403 { 403 \$auth_challenge; default ""; }
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
    location = /_verify_reports {
      internal;
      proxy_pass http://127.0.0.1:$TPORT/api/auth/verify?scope=reports:read;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
    }
    location /reports/ {
      auth_request /_verify_reports;
      auth_request_set \$auth_user \$upstream_http_x_auth_user_id;
      auth_request_set \$auth_client \$upstream_http_x_auth_client;
      auth_request_set \$auth_scopes \$upstream_http_x_auth_scopes;
      auth_request_set \$auth_status \$upstream_status;
      auth_request_set \$auth_retry \$upstream_http_retry_after;
      auth_request_set \$auth_challenge \$upstream_http_www_authenticate;
      proxy_set_header X-Auth-User-Id \$auth_user;
      proxy_set_header X-Auth-Client \$auth_client;
      proxy_set_header X-Auth-Scopes \$auth_scopes;
      add_header WWW-Authenticate \$auth_challenge_403 always;
      proxy_pass http://127.0.0.1:$UPORT;
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
# An API key of the admin's: {"name", "scopes"?} → its token.
apikey() { curl -sf http://127.0.0.1:$TPORT/api/auth/apikeys -H "Authorization: Bearer $ADMIN" \
  -H 'content-type: application/json' -d "$1" | python3 -c 'import sys,json;print(json.load(sys.stdin)["token"])'; }
REPORTS=$(apikey '{"name":"reports","scopes":["reports:read"]}')
OTHER=$(apikey '{"name":"other","scopes":["other"]}')
FULL=$(apikey '{"name":"full"}')
PASSED=0
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; PASSED=$((PASSED + 1)); }
code() { curl -s -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' "$@"; }

[ "$(code -H "Authorization: Bearer $CLI" http://127.0.0.1:$NPORT/app/x)" = 200 ] || fail "valid token not 200"
grep -q '"user_id": "1"' "$WORK/body" && grep -q '"client": "cli"' "$WORK/body" || fail "identity not forwarded: $(cat "$WORK/body")"
ok "200 with X-Auth-User-Id forwarded to the upstream"
[ "$(code http://127.0.0.1:$NPORT/app/x)" = 401 ] || fail "no token not 401"
[ "$(code -H 'Authorization: Bearer tss_nope' http://127.0.0.1:$NPORT/app/x)" = 401 ] || fail "bad token not 401"
ok "401 without or with a bad token"
[ "$(code -H "Authorization: Bearer $MOBILE" http://127.0.0.1:$NPORT/app/x)" = 403 ] || fail "denied client not 403"
ok "403 for a denied client"

# /reports/ asks verify for scope=reports:read.
[ "$(code -H "Authorization: Bearer $REPORTS" http://127.0.0.1:$NPORT/reports/q1)" = 200 ] || fail "key with the scope not 200"
grep -q '"user_id": "1"' "$WORK/body" && grep -q '"scopes": "reports:read"' "$WORK/body" \
  || fail "scopes not forwarded: $(cat "$WORK/body")"
[ "$(code -H "X-Api-Key: $REPORTS" http://127.0.0.1:$NPORT/reports/q1)" = 200 ] || fail "X-Api-Key with the scope not 200"
ok "a key holding reports:read passes /reports/ (Authorization and X-Api-Key), X-Auth-Scopes forwarded"
[ "$(code -H "X-Api-Key: $OTHER" http://127.0.0.1:$NPORT/reports/q1)" = 403 ] || fail "key without the scope not 403"
grep -qi '^www-authenticate: Bearer realm="tessera", error="insufficient_scope", scope="reports:read"' "$WORK/headers" \
  || fail "no insufficient_scope challenge: $(cat "$WORK/headers")"
[ "$(code -H "Authorization: Bearer $OTHER" http://127.0.0.1:$NPORT/reports/q1)" = 403 ] || fail "key without the scope not 403 (Authorization)"
[ "$(code -H "X-Api-Key: $OTHER" http://127.0.0.1:$NPORT/app/x)" = 200 ] || fail "scoped key not 200 where no scope is asked"
ok "a key without reports:read gets 403 with WWW-Authenticate error=\"insufficient_scope\" (passes where no scope is asked)"
[ "$(code -H "X-Api-Key: $FULL" http://127.0.0.1:$NPORT/reports/q1)" = 200 ] || fail "unrestricted key not 200"
grep -q '"scopes": null' "$WORK/body" || fail "X-Auth-Scopes sent for an unrestricted key: $(cat "$WORK/body")"
[ "$(code -H "Authorization: Bearer $FULL" http://127.0.0.1:$NPORT/reports/q1)" = 200 ] || fail "unrestricted key not 200 (Authorization)"
[ "$(code -H "Authorization: Bearer $ADMIN" http://127.0.0.1:$NPORT/reports/q1)" = 200 ] || fail "session not 200 on /reports/"
ok "an unrestricted key and a session pass /reports/"
[ "$(code http://127.0.0.1:$NPORT/reports/q1)" = 401 ] || fail "no credential on /reports/ not 401"
[ "$(grep -ci '^www-authenticate:' "$WORK/headers")" = 1 ] || fail "not one WWW-Authenticate on 401: $(cat "$WORK/headers")"
[ "$(code -H "X-Api-Key: $ADMIN" http://127.0.0.1:$NPORT/reports/q1)" = 401 ] || fail "session token in X-Api-Key not 401"
grep -qi '^www-authenticate:.*error="invalid_token"' "$WORK/headers" || fail "no invalid_token challenge: $(cat "$WORK/headers")"
ok "401 on /reports/ with one WWW-Authenticate; a session token in X-Api-Key is invalid_token"
curl -sf -X PATCH http://127.0.0.1:$TPORT/api/admin/clients/cli -H "Authorization: Bearer $ADMIN" \
  -H 'content-type: application/json' -d '{"throttle_rate":"2/m"}' >/dev/null
for _ in 1 2; do [ "$(code -H "Authorization: Bearer $CLI" http://127.0.0.1:$NPORT/app/x)" = 200 ] || fail "burst not 200"; done
[ "$(code -H "Authorization: Bearer $CLI" http://127.0.0.1:$NPORT/app/x)" = 429 ] || fail "over budget not 429"
grep -qi '^retry-after: 30' "$WORK/headers" || fail "no Retry-After: $(cat "$WORK/headers")"
ok "429 with Retry-After passed through"
echo "nginx forward-auth: $PASSED passed, 0 failed"
