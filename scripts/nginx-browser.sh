#!/usr/bin/env bash
# Proves the browser-cookie transport and remote-user (SSO) login behind a real nginx (SPEC §3.3, §4.1):
# (a) a cookie login through nginx, auth_request → /api/auth/verify authenticated by the cookie, the CSRF
#     rule on unsafe methods (X-CSRF-Token, foreign Origin), and logout clearing the cookie and the session;
# (b) nginx's auth_basic standing in for the company SSO in front of /api/auth/login/remote, where only
#     nginx's own proxy_bind address is a trusted proxy, so a forged X-Remote-User from anyone else fails.
# Usage: scripts/nginx-browser.sh [path/to/tessera]   (installs nginx from Debian if absent)
set -euo pipefail
BIN="${1:-target/debug/tessera}"
if ! command -v nginx >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
WORK=$(mktemp -d)
TPORT=18290; NPORT=18291; UPORT=18292
T=http://127.0.0.1:$TPORT   # Tessera directly
N=http://127.0.0.1:$NPORT   # through nginx (the origin the "browser" sees)
# nginx reaches the SSO endpoint from this address (proxy_bind; all of 127/8 is local on Linux) and
# only it is in TESSERA_TRUSTED_PROXIES. curl, and nginx's other locations, come from 127.0.0.1.
SSO_ADDR=127.0.0.2
SSO_PW=carol-sso-secret
JAR=$WORK/jar
cleanup() {
  for p in ${TPID:-} ${UPID:-}; do kill "$p" 2>/dev/null || true; done
  "$NGINX" -p "$WORK" -c "$WORK/nginx.conf" -s stop 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

PASSED=0
ok() { echo "ok: $*"; PASSED=$((PASSED + 1)); }
# Fails loudly: the message, then the last response's headers and body (and nginx's errors, if any).
fail() {
  echo "FAIL: $*"
  if [ -f "$WORK/headers" ]; then echo "--- last response headers:"; tr -d '\r' < "$WORK/headers"; fi
  if [ -f "$WORK/body" ]; then echo "--- last response body:"; cat "$WORK/body"; echo; fi
  if [ -s "$WORK/error.log" ]; then echo "--- nginx error.log (tail):"; tail -n 5 "$WORK/error.log"; fi
  exit 1
}
# code ARGS… : the status of one curl request; headers and body are kept for the checks and for fail().
code() { curl -s -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' "$@" || true; }
# expect STATUS WHAT ARGS… : one request that must answer STATUS.
expect() {
  local want=$1 what=$2 got; shift 2
  got=$(code "$@")
  [ "$got" = "$want" ] || fail "$what: expected $want, got $got"
}
# field a.b : a value from the last JSON body ("" when absent or not JSON). has KEY : a top-level key exists.
field() {
  python3 -c '
import json, sys
try: v = json.load(open(sys.argv[1]))
except Exception: sys.exit(0)
for k in sys.argv[2].split("."):
    v = v.get(k) if isinstance(v, dict) else None
if v is not None: print(str(v).lower() if isinstance(v, bool) else v)' "$WORK/body" "$1"
}
has() { python3 -c 'import json, sys; sys.exit(0 if sys.argv[2] in json.load(open(sys.argv[1])) else 1)' "$WORK/body" "$1" 2>/dev/null; }
# setcookie NAME : the last response's Set-Cookie line for NAME (attributes are checked, not their order).
setcookie() { tr -d '\r' < "$WORK/headers" | grep -i "^set-cookie: $1=" || true; }
# jar_cookie NAME : the value curl's jar holds for NAME (HttpOnly cookies are written as "#HttpOnly_<host>" lines).
jar_cookie() { [ -f "$JAR" ] && awk -F'\t' -v n="$1" 'NF == 7 && $6 == n { print $7 }' "$JAR" || true; }
JSON=(-H 'content-type: application/json')

# Upstream app: answers GET and POST, echoing the method and the identity headers nginx set from auth_request.
cat > "$WORK/upstream.py" <<'PY'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n: self.rfile.read(n)
        body = json.dumps({"method": self.command, "user_id": self.headers.get("X-Auth-User-Id"),
                           "client": self.headers.get("X-Auth-Client")}).encode()
        self.send_response(200); self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body))); self.end_headers(); self.wfile.write(body)
    do_GET = do_POST = answer
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
python3 "$WORK/upstream.py" $UPORT & UPID=$!

# The SSO's user list: carol only. nginx reads apr1 (openssl) or {SSHA} (salted SHA-1, Python's hashlib;
# the crypt module is gone in Python 3.13).
if command -v openssl >/dev/null; then
  HASH=$(openssl passwd -apr1 "$SSO_PW")
else
  HASH=$(python3 -c 'import base64, hashlib, os, sys; s = os.urandom(8)
print("{SSHA}" + base64.b64encode(hashlib.sha1(sys.argv[1].encode() + s).digest() + s).decode())' "$SSO_PW")
fi
printf 'carol:%s\n' "$HASH" > "$WORK/htpasswd"

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
    # Tessera's API on the app's own origin, so the browser sends the cookie to both.
    location /api/ {
      proxy_pass http://127.0.0.1:$TPORT;
    }
    # Forward-auth. nginx sends the subrequest as GET whatever the browser's method, so the original
    # method goes in X-Original-Method for Tessera's CSRF rule; Cookie, Origin and X-CSRF-Token are
    # passed on unchanged (nginx's default).
    location = /_tessera {
      internal;
      proxy_pass http://127.0.0.1:$TPORT/api/auth/verify;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-Method \$request_method;
      # Tessera also reads Traefik's X-Forwarded-Method; drop one the client sent, so the method judged
      # is always the one nginx saw.
      proxy_set_header X-Forwarded-Method "";
    }
    # The app. auth_request passes 401 and 403 on to the browser as they are.
    location /app/ {
      auth_request /_tessera;
      auth_request_set \$auth_user \$upstream_http_x_auth_user_id;
      auth_request_set \$auth_client \$upstream_http_x_auth_client;
      proxy_set_header X-Auth-User-Id \$auth_user;
      proxy_set_header X-Auth-Client \$auth_client;
      proxy_pass http://127.0.0.1:$UPORT;
    }
    # The company SSO stand-in: nginx checks the password and names the person in X-Remote-User
    # (replacing any such header the client sent), from the one address Tessera trusts.
    location = /sso/login {
      auth_basic "Company SSO";
      auth_basic_user_file $WORK/htpasswd;
      proxy_pass http://127.0.0.1:$TPORT/api/auth/login/remote;
      proxy_bind $SSO_ADDR;
      proxy_set_header X-Remote-User \$remote_user;
      # The SSO password is nginx's business; Tessera never sees it.
      proxy_set_header Authorization "";
    }
  }
}
CONF

# One Tessera serves both halves. Plain HTTP, so the cookie is not Secure (curl would not send a
# Secure cookie over http) and is named `tessera`; the public URL is nginx's origin, for the Origin check.
unset TESSERA_COOKIE_NAME TESSERA_ALLOWED_ORIGINS   # nothing from the caller's environment may move them
export TESSERA_DATABASE_URL="sqlite://$WORK/t.db?mode=rwc" TESSERA_BIND=127.0.0.1:$TPORT TESSERA_LOG=warn
export TESSERA_BOOTSTRAP_ADMIN=admin:adminpass123
export TESSERA_COOKIE_SECURE=false TESSERA_PUBLIC_URL=$N
export TESSERA_REMOTE_USER_HEADER=X-Remote-User TESSERA_REMOTE_USER_CREATE=true TESSERA_TRUSTED_PROXIES=$SSO_ADDR/32
"$BIN" & TPID=$!
for _ in $(seq 1 50); do curl -sf $T/healthz >/dev/null && break; sleep 0.2; done
kill -0 "$TPID" 2>/dev/null && curl -sf $T/healthz >/dev/null || fail "tessera did not start on port $TPORT"
# A binary from before the cookie transport answers 404 here (the route is unknown); it should be 401.
[ "$(code $T/api/auth/csrf)" != 404 ] || fail "$BIN has no /api/auth/csrf: built before the cookie transport?"
"$NGINX" -p "$WORK" -c "$WORK/nginx.conf"

# ---- (a) the browser: a cookie jar, never a token in hand ----

expect 200 "cookie login through nginx" -c "$JAR" "${JSON[@]}" \
  -d '{"username":"admin","password":"adminpass123","client":"browser"}' $N/api/auth/login
CSRF=$(field csrf_token)
[ -n "$CSRF" ] || fail "login body has no csrf_token"
! has token || fail "login body of a cookie client carries the token"
! has device_proof || fail "login body of a cookie client carries device_proof (it belongs in a cookie)"
SC=$(setcookie tessera)
[ -n "$SC" ] || fail "no Set-Cookie for tessera"
grep -qiE ';\s*HttpOnly\s*(;|$)' <<<"$SC" || fail "session cookie not HttpOnly: $SC"
grep -qiE ';\s*SameSite=Lax\s*(;|$)' <<<"$SC" || fail "session cookie not SameSite=Lax: $SC"
grep -qiE ';\s*Path=/\s*(;|$)' <<<"$SC" || fail "session cookie not Path=/: $SC"
grep -qiE ';\s*Max-Age=[1-9][0-9]*\s*(;|$)' <<<"$SC" || fail "session cookie without a positive Max-Age: $SC"
! grep -qiE ';\s*Secure\s*(;|$)' <<<"$SC" || fail "session cookie Secure although TESSERA_COOKIE_SECURE=false: $SC"
[ -n "$(setcookie tessera_device)" ] || fail "no Set-Cookie for the device proof (tessera_device)"
COOKIE=$(jar_cookie tessera)
[ -n "$COOKIE" ] || fail "the jar holds no tessera cookie: $(cat "$JAR")"
ok "login through nginx: 200, csrf_token and no token in the body, cookie tessera (HttpOnly, SameSite=Lax, not Secure) in the jar"

expect 200 "GET /app/ with the cookie" -b "$JAR" $N/app/x
[ "$(field user_id)" = 1 ] && [ "$(field client)" = browser ] || fail "identity not forwarded to the upstream"
ok "GET /app/x with the cookie: 200, upstream saw user 1 on client browser"

expect 200 "GET /api/auth/csrf with the cookie" -b "$JAR" $N/api/auth/csrf
[ "$(field csrf_token)" = "$CSRF" ] || fail "GET /api/auth/csrf does not give back the login's csrf_token"
ok "GET /api/auth/csrf through nginx gives the same csrf_token (the page-reload path)"

expect 403 "POST /app/ with the cookie but no X-CSRF-Token" -b "$JAR" -X POST "${JSON[@]}" -d '{}' $N/app/x
expect 403 "POST /app/ with no X-CSRF-Token claiming X-Forwarded-Method: GET" -b "$JAR" -H 'X-Forwarded-Method: GET' \
  -X POST "${JSON[@]}" -d '{}' $N/app/x
# nginx shows its own 403 page; ask Tessera directly why, the way nginx asks it (GET + X-Original-Method).
expect 403 "verify with X-Original-Method: POST and no X-CSRF-Token" -b "$JAR" -H 'X-Original-Method: POST' $T/api/auth/verify
[ "$(field code)" = csrf_failed ] || fail "verify refused for another reason than csrf_failed"
ok "POST /app/x with the cookie and no X-CSRF-Token: 403 (csrf_failed, judged on X-Original-Method; a client's X-Forwarded-Method is dropped)"

expect 200 "POST /app/ with the cookie and X-CSRF-Token" -b "$JAR" -H "X-CSRF-Token: $CSRF" -X POST "${JSON[@]}" -d '{}' $N/app/x
[ "$(field method)" = POST ] && [ "$(field user_id)" = 1 ] || fail "upstream did not get the POST as user 1"
expect 200 "POST /app/ with the token and our own Origin" -b "$JAR" -H "X-CSRF-Token: $CSRF" -H "Origin: $N" \
  -X POST "${JSON[@]}" -d '{}' $N/app/x
ok "POST /app/x with the cookie and X-CSRF-Token: 200 (also with Origin: $N)"

for origin in https://evil.example null; do
  expect 403 "POST /app/ with the token and Origin: $origin" -b "$JAR" -H "X-CSRF-Token: $CSRF" -H "Origin: $origin" \
    -X POST "${JSON[@]}" -d '{}' $N/app/x
done
ok "POST /app/x with the token but Origin https://evil.example or null: 403"

# A cross-site page must not be able to log the person out either.
expect 403 "logout through nginx without X-CSRF-Token" -b "$JAR" -X POST $N/api/auth/logout
[ "$(field code)" = csrf_failed ] || fail "logout without X-CSRF-Token refused for another reason than csrf_failed"
expect 200 "GET /app/ after the refused logout" -b "$JAR" $N/app/x
ok "logout through nginx without X-CSRF-Token: 403 csrf_failed, the session lives on"

expect 204 "logout through nginx" -b "$JAR" -c "$JAR" -H "X-CSRF-Token: $CSRF" -X POST $N/api/auth/logout
SC=$(setcookie tessera)
grep -qiE '^set-cookie: tessera=\s*(;|$)' <<<"$SC" && grep -qiE ';\s*Max-Age=0\s*(;|$)' <<<"$SC" \
  || fail "logout did not clear the cookie: '$SC'"
[ -z "$(jar_cookie tessera)" ] || fail "the jar still holds the tessera cookie after logout"
ok "logout through nginx: 204, Set-Cookie tessera=; Max-Age=0, the jar dropped it"

expect 401 "GET /app/ with the jar after logout" -b "$JAR" $N/app/x
# The jar forgetting the cookie is not enough: the session itself must be gone on the server.
expect 401 "GET /app/ with the old cookie after logout" -H "Cookie: tessera=$COOKIE" $N/app/x
# nginx keeps auth_request's headers to itself; straight at Tessera the dead cookie's 401 also clears it.
expect 401 "GET /api/auth/me with the old cookie after logout" -H "Cookie: tessera=$COOKIE" $T/api/auth/me
[ "$(field code)" = invalid_token ] || fail "a logged-out cookie is not invalid_token"
grep -qiE ';\s*Max-Age=0\s*(;|$)' <<<"$(setcookie tessera)" || fail "the 401 for a dead cookie does not clear it"
ok "after logout: 401 with the jar and with the old cookie replayed (invalid_token, and the 401 clears the cookie)"

# ---- (b) remote-user login: nginx's auth_basic plays the company SSO ----

expect 200 "SSO login as carol on cli" -u "carol:$SSO_PW" "${JSON[@]}" -d '{"client":"cli"}' $N/sso/login
CAROL=$(field token)
[[ "$CAROL" == tss_* ]] || fail "SSO login to a bearer client gave no session token"
ok "POST /sso/login as carol (auth_basic → X-Remote-User): 200 with a token"

expect 200 "GET /api/auth/me as carol" -H "Authorization: Bearer $CAROL" $T/api/auth/me
[ "$(field user.username)" = carol ] && [ "$(field user.is_admin)" = false ] || fail "/me is not carol (non-admin)"
CAROL_ID=$(field user.id)
ok "the token works straight at Tessera: /api/auth/me is carol (created, not an admin)"

expect 401 "SSO login with a wrong password" -u "carol:wrong-password" "${JSON[@]}" -d '{"client":"cli"}' $N/sso/login
tr -d '\r' < "$WORK/headers" | grep -qi '^www-authenticate: Basic realm="Company SSO"' || fail "the 401 is not nginx's own"
! has token || fail "a wrong SSO password got a token"
expect 200 "carol's sessions" -H "Authorization: Bearer $CAROL" $T/api/auth/sessions
[ "$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/body")" = 1 ] \
  || fail "carol should have exactly one session after the refused SSO login"
ok "SSO login with a wrong password: 401 from nginx, no new session"

expect 403 "forged X-Remote-User straight to Tessera" -H 'X-Remote-User: admin' "${JSON[@]}" -d '{"client":"cli"}' \
  $T/api/auth/login/remote
[ "$(field code)" = permission_denied ] && ! has token || fail "forged X-Remote-User not refused with permission_denied"
# nginx's ordinary /api/ location passes the header on but is not the trusted address either.
expect 403 "forged X-Remote-User through nginx's /api/" -H 'X-Remote-User: admin' "${JSON[@]}" -d '{"client":"cli"}' \
  $N/api/auth/login/remote
[ "$(field code)" = permission_denied ] || fail "forged X-Remote-User through /api/ not permission_denied"
ok "forged X-Remote-User: admin from 127.0.0.1 (direct and via nginx /api/): 403 permission_denied"

# SSO into the browser client: the cookie, then the app, with no password known to Tessera.
rm -f "$JAR"
expect 200 "SSO login as carol on browser" -c "$JAR" -u "carol:$SSO_PW" "${JSON[@]}" -d '{"client":"browser"}' $N/sso/login
[ -n "$(field csrf_token)" ] && ! has token || fail "SSO login to the cookie client: want csrf_token and no token"
[ -n "$(jar_cookie tessera)" ] || fail "SSO login to the cookie client set no tessera cookie"
expect 200 "GET /app/ as carol by cookie" -b "$JAR" $N/app/x
[ "$(field user_id)" = "$CAROL_ID" ] && [ "$(field client)" = browser ] || fail "upstream did not see carol on browser"
ok "SSO login on the browser client sets the cookie; /app/x then sees carol (user $CAROL_ID)"

echo "nginx browser: $PASSED passed, 0 failed"
