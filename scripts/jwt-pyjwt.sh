#!/usr/bin/env bash
# Proves that Tessera's JWT access tokens (SPEC §4.3) verify in an ordinary third-party library,
# PyJWT, the way a downstream service would check them: the key looked up by `kid` in
# /.well-known/jwks.json through jwt.PyJWKClient, EdDSA only, issuer and audience required.
# - the RFC 8414 metadata names the issuer and the JWKS; the JWKS is cacheable (public, max-age=300)
#   and carries public keys only;
# - a JWT from GET /api/auth/verify?jwt=true (body "jwt" = header X-Auth-Jwt) and one from
#   POST /api/auth/token verify, with typ at+jwt and the claims of the session (sub, client_id,
#   sid, username, auth_time; exp - iat <= TESSERA_JWT_TTL);
# - a scoped API key's JWT (POST /api/auth/token with X-Api-Key) carries its scope;
# - key rotation: the `next` key is in the JWKS before it signs anything; after a rotation tokens
#   of the old key and of the new one both verify (different kids), verify?jwt=true stops handing
#   out the old key's JWT; once the retired key's publish window (TTL + 15 s) has passed, its kid
#   is gone from the JWKS and PyJWKClient refuses its token at the key lookup (not for expiry: the
#   same token still verifies against the old public key kept aside, expiry check off).
# TESSERA_JWT_TTL=3 keeps that window short (18 s), so the run takes about 25 s.
# Usage: scripts/jwt-pyjwt.sh [path/to/tessera]   (installs PyJWT with cryptography from PyPI if absent)
set -euo pipefail
BIN="${1:-target/debug/tessera}"
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
B=http://127.0.0.1:$PORT
TTL=3
cleanup() { kill "${TPID:-0}" 2>/dev/null || true; wait "${TPID:-0}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

PASSED=0
ok() { echo "ok: $*"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL: $*"; echo "jwt-pyjwt: $PASSED passed, 1 failed"; exit 1; }

# PyJWT with its `crypto` extra (cryptography: Ed25519). Into this interpreter when pip may
# install there; where the system refuses (PEP 668, "externally managed"), into a venv in $WORK.
PY=python3
have_pyjwt() { "$1" -c 'import jwt, cryptography, sys; sys.exit(tuple(map(int, jwt.__version__.split(".")[:2])) < (2, 8))' 2>/dev/null; }
if ! have_pyjwt "$PY"; then
  if ! "$PY" -m pip install -q --disable-pip-version-check --root-user-action=ignore 'pyjwt[crypto]>=2.8' 2>"$WORK/pip.err"; then
    grep -qi 'externally.managed' "$WORK/pip.err" || { cat "$WORK/pip.err"; fail "pip install pyjwt[crypto]"; }
    python3 -m venv "$WORK/venv" || fail "python3 -m venv (install python3-venv)"
    PY="$WORK/venv/bin/python"
    "$PY" -m pip install -q --disable-pip-version-check 'pyjwt[crypto]>=2.8' || fail "pip install pyjwt[crypto] in a venv"
  fi
  have_pyjwt "$PY" || fail "PyJWT >= 2.8 with cryptography is not importable after installing it"
fi
echo "PyJWT $("$PY" -c 'import jwt; print(jwt.__version__)') on $("$PY" -c 'import sys; print(sys.version.split()[0])')"

unset TESSERA_JWT_ISSUER TESSERA_JWT_AUDIENCE   # both default to the public URL, which is checked
export TESSERA_DATABASE_URL="sqlite://$WORK/t.db?mode=rwc" TESSERA_BIND=127.0.0.1:$PORT TESSERA_LOG=warn
export TESSERA_BOOTSTRAP_ADMIN=admin:adminpass123 TESSERA_PUBLIC_URL=$B TESSERA_JWT_TTL=$TTL
"$BIN" & TPID=$!
for _ in $(seq 1 50); do curl -sf $B/healthz >/dev/null && break; sleep 0.2; done
kill -0 "$TPID" 2>/dev/null && curl -sf $B/healthz >/dev/null || fail "tessera did not start on $B"
[ "$(curl -s -o /dev/null -w '%{http_code}' $B/.well-known/jwks.json)" = 200 ] \
  || fail "$BIN has no /.well-known/jwks.json: built before JWT access tokens?"

login() { curl -sf $B/api/auth/login -H 'content-type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"adminpass123\",\"client\":\"$1\"}" | python3 -c 'import sys,json;print(json.load(sys.stdin)["token"])'; }
CLI=$(login cli) || fail "login on cli"
ADMIN=$(login web) || fail "login on web"
curl -sf $B/api/auth/apikeys -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d '{"name":"jwt","scopes":["reports:read"]}' > "$WORK/key.json" || fail "create a scoped API key"
KEY=$(python3 -c 'import sys,json;print(json.load(open(sys.argv[1]))["token"])' "$WORK/key.json")
KEY_ID=$(python3 -c 'import sys,json;print(json.load(open(sys.argv[1]))["id"])' "$WORK/key.json")

curl -sf -D "$WORK/headers" -o /dev/null $B/.well-known/jwks.json || fail "GET /.well-known/jwks.json"
tr -d '\r' < "$WORK/headers" | grep -qi '^cache-control: public, max-age=300$' \
  || fail "JWKS without Cache-Control: public, max-age=300: $(tr -d '\r' < "$WORK/headers" | grep -i '^cache-control' || echo none)"
ok "GET /.well-known/jwks.json: 200 with Cache-Control: public, max-age=300, no credential"

# The checks, in Python. Each step mints the tokens it checks itself, so that a 3 s JWT is
# verified well within its life. A step prints "ok: …" lines, or "FAIL: …" and exits 1; the
# state the last step needs (token A and its key) is kept in $WORK/state.json.
cat > "$WORK/check.py" <<'PY'
import json, os, sys, time, urllib.error, urllib.request
from datetime import datetime

import jwt

B, TTL = os.environ["B"], int(os.environ["TTL"])
PUB = B                        # TESSERA_PUBLIC_URL: the default issuer, and so the default audience
JWKS = PUB + "/.well-known/jwks.json"
CLI, ADMIN, KEY, KEY_ID = (os.environ[k] for k in ("CLI", "ADMIN", "KEY", "KEY_ID"))
STATE = os.path.join(os.environ["WORK"], "state.json")
REQUIRE = ["exp", "iat", "iss", "aud", "sub", "jti"]


def ok(msg):
    print("ok: " + msg, flush=True)


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def call(method, path, headers=None, expect=200):
    """One request to Tessera: (parsed JSON body or None, headers). Fails on another status."""
    req = urllib.request.Request(B + path, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status, hdrs, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, raw = e.code, e.headers, e.read()
    if status != expect:
        fail(f"{method} {path}: expected {expect}, got {status}: {raw[:300]!r}")
    return (json.loads(raw) if raw else None), hdrs


def bearer(token):
    return {"Authorization": "Bearer " + token}


def decode(token):
    """What a downstream service does: a fresh PyJWKClient (so no cache hides a change), the key by kid."""
    key = jwt.PyJWKClient(JWKS).get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["EdDSA"], audience=PUB, issuer=PUB,
                      options={"require": REQUIRE})


def verified(token, what):
    try:
        return decode(token)
    except jwt.PyJWTError as e:
        fail(f"{what} does not verify with PyJWT: {type(e).__name__}: {e}")


def jwks():
    body, _ = call("GET", "/.well-known/jwks.json")
    return {k.get("kid"): k for k in body["keys"]}


def admin_keys():
    body, _ = call("GET", "/api/admin/keys", bearer(ADMIN))
    return body


def state_of(keys, state):
    kids = [k["kid"] for k in keys if k["state"] == state]
    if len(kids) != 1:
        fail(f"expected one {state} key, got {kids}: {keys}")
    return kids[0]


def mint(credential_headers, what):
    body, hdrs = call("POST", "/api/auth/token", credential_headers)
    if body.get("token_type") != "Bearer" or not isinstance(body.get("access_token"), str):
        fail(f"{what}: POST /api/auth/token answered {body}")
    if type(body.get("expires_in")) is not int or not 0 < body["expires_in"] <= TTL:
        fail(f"{what}: expires_in {body.get('expires_in')!r} is not in 1..{TTL}")
    if "no-store" not in (hdrs.get("Cache-Control") or ""):
        fail(f"{what}: POST /api/auth/token without Cache-Control: no-store")
    return body["access_token"]


def verify_jwt(token, what):
    body, hdrs = call("GET", "/api/auth/verify?jwt=true", bearer(token))
    if not isinstance(body.get("jwt"), str) or body["jwt"] != hdrs.get("X-Auth-Jwt"):
        fail(f"{what}: verify?jwt=true body jwt {body.get('jwt')!r} != X-Auth-Jwt {hdrs.get('X-Auth-Jwt')!r}")
    return body["jwt"]


def check_claims(token, claims, *, user, session, client, scope, what):
    header = jwt.get_unverified_header(token)
    if header.get("typ") != "at+jwt" or header.get("alg") != "EdDSA" or not header.get("kid"):
        fail(f"{what}: header {header} is not typ at+jwt, alg EdDSA with a kid")
    want = {"iss": PUB, "aud": PUB, "sub": str(user["id"]), "client_id": client, "sid": session["id"],
            "username": user["username"]}
    got = {k: claims.get(k) for k in want}
    if got != want:
        fail(f"{what}: claims {got} != {want}")
    for k in ("exp", "iat", "auth_time"):
        if type(claims.get(k)) is not int:
            fail(f"{what}: {k} {claims.get(k)!r} is not an integer")
    if not 0 < claims["exp"] - claims["iat"] <= TTL:
        fail(f"{what}: exp - iat = {claims['exp'] - claims['iat']}, not in 1..{TTL} (TESSERA_JWT_TTL)")
    if abs(claims["iat"] - time.time()) > 5:
        fail(f"{what}: iat {claims['iat']} is not now ({int(time.time())})")
    authenticated = datetime.fromisoformat(session["authenticated_at"].replace("Z", "+00:00")).timestamp()
    if abs(claims["auth_time"] - authenticated) > 1:
        fail(f"{what}: auth_time {claims['auth_time']} is not authenticated_at {session['authenticated_at']}")
    if not isinstance(claims.get("jti"), str) or not claims["jti"]:
        fail(f"{what}: jti {claims.get('jti')!r}")
    if claims.get("scope") != scope:
        fail(f"{what}: scope {claims.get('scope')!r}, expected {scope!r}")
    return header


def step_metadata():
    meta, _ = call("GET", "/.well-known/oauth-authorization-server")
    want = {"issuer": PUB, "jwks_uri": JWKS, "token_endpoint": PUB + "/api/auth/token",
            "introspection_endpoint": PUB + "/api/auth/introspect",
            "revocation_endpoint": PUB + "/api/auth/revoke", "response_types_supported": []}
    got = {k: meta.get(k) for k in want}
    if got != want:
        fail(f"authorization-server metadata {got} != {want}")
    ok("/.well-known/oauth-authorization-server: issuer and jwks_uri (and the token, introspection and "
       "revocation endpoints) on the public URL, response_types_supported []")
    keys = jwks()
    for kid, k in keys.items():
        shape = {f: k.get(f) for f in ("kty", "crv", "use", "alg")}
        if shape != {"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA"} or not kid or not k.get("x"):
            fail(f"JWK {k} is not an Ed25519 signing key with a kid")
        if "d" in k:
            fail(f"JWK {kid} carries the private key (d)")
    listed = admin_keys()
    current, nxt = state_of(listed, "current"), state_of(listed, "next")
    if set(keys) != {current, nxt}:
        fail(f"JWKS kids {sorted(keys)} are not the current and next keys {current}, {nxt}")
    ok(f"JWKS: the current and next Ed25519 keys (kty OKP, use sig, alg EdDSA), public parts only: {sorted(keys)}")


def step_tokens():
    me, _ = call("GET", "/api/auth/me", bearer(CLI))
    user, session = me["user"], me["session"]
    v = verify_jwt(CLI, "cli session")
    claims = verified(v, "the JWT of verify?jwt=true")
    header = check_claims(v, claims, user=user, session=session, client="cli", scope=None, what="verify?jwt=true")
    ok(f"verify?jwt=true: body jwt = X-Auth-Jwt, verified by PyJWKClient (kid {header['kid']}), typ at+jwt, "
       f"sub {claims['sub']}, client_id cli, sid = /api/auth/me's session, auth_time, exp - iat = "
       f"{claims['exp'] - claims['iat']}")
    for query in ("", "?jwt=false"):
        body, hdrs = call("GET", "/api/auth/verify" + query, bearer(CLI))
        if "jwt" in body or hdrs.get("X-Auth-Jwt") is not None:
            fail(f"verify{query} handed out a JWT")
    body, _ = call("GET", "/api/auth/verify?jwt=yes", bearer(CLI), expect=400)
    if body.get("code") != "validation_error" or "jwt" not in (body.get("fields") or {}):
        fail(f"verify?jwt=yes: {body}, expected validation_error naming jwt")
    ok("verify without jwt or with jwt=false: no JWT; jwt=yes: 400 validation_error naming jwt")

    t1, t2 = mint(bearer(CLI), "cli session"), mint(bearer(CLI), "cli session")
    c1, c2 = verified(t1, "POST /api/auth/token's JWT"), verified(t2, "POST /api/auth/token's second JWT")
    check_claims(t1, c1, user=user, session=session, client="cli", scope=None, what="POST /api/auth/token")
    if c1["jti"] == c2["jti"]:
        fail(f"two calls of POST /api/auth/token gave the same jti {c1['jti']}")
    ok("POST /api/auth/token: access_token verified by PyJWKClient with the same claims, token_type Bearer, "
       "expires_in <= TTL, a new jti on every call")
    call("POST", "/api/auth/token", expect=401)
    ok("POST /api/auth/token without a credential: 401")

    key_me, _ = call("GET", "/api/auth/me", {"X-Api-Key": KEY})
    if key_me["session"]["id"] != KEY_ID:
        fail(f"/api/auth/me with the key names session {key_me['session']['id']}, not the key {KEY_ID}")
    k = mint({"X-Api-Key": KEY}, "scoped API key")
    kc = verified(k, "the scoped key's JWT")
    check_claims(k, kc, user=key_me["user"], session=key_me["session"], client=key_me["session"]["client"],
                 scope="reports:read", what="scoped API key")
    ok(f"a scoped API key (X-Api-Key) gets a JWT from POST /api/auth/token: scope \"reports:read\", "
       f"client_id {kc['client_id']}, sid = the key's id")


def step_rotate():
    before = admin_keys()
    cur0, next0 = state_of(before, "current"), state_of(before, "next")
    if next0 not in jwks():
        fail(f"the next key {next0} is not published before it signs anything")
    a = mint(bearer(CLI), "token A")
    v1 = verify_jwt(CLI, "before the rotation")
    kid_a = jwt.get_unverified_header(a)["kid"]
    if kid_a != cur0 or jwt.get_unverified_header(v1)["kid"] != cur0:
        fail(f"tokens before the rotation signed by {kid_a}, not the current key {cur0}")
    jwk_a = jwks()[kid_a]

    after, _ = call("POST", "/api/admin/keys/rotate", bearer(ADMIN))
    rotated_at = time.time()
    states = {k["kid"]: k["state"] for k in after}
    if states.get(cur0) != "retired" or states.get(next0) != "current" or state_of(after, "next") in (cur0, next0):
        fail(f"POST /api/admin/keys/rotate: {after}; expected {cur0} retired, {next0} current, a new next")
    b = mint(bearer(CLI), "token B")
    kid_b = jwt.get_unverified_header(b)["kid"]
    verified(a, "token A (signed by the key just retired)")
    verified(b, "token B")
    if kid_b != next0 or kid_b == kid_a:
        fail(f"token B signed by {kid_b}; expected the former next key {next0}, not A's {kid_a}")
    ok(f"rotation: token A (kid {kid_a}, now retired) and token B (kid {kid_b}, the former next key, "
       "published before the rotation) both verify with a fresh PyJWKClient")
    v2 = verify_jwt(CLI, "after the rotation")
    if jwt.get_unverified_header(v2)["kid"] != kid_b or v2 == v1:
        fail("verify?jwt=true handed out a JWT of the retired key after the rotation")
    verified(v2, "verify?jwt=true's JWT after the rotation")
    ok("verify?jwt=true after the rotation: a new JWT signed by the new current key, not the earlier one")
    published = jwks()
    if not {kid_a, kid_b, state_of(after, "next")} <= set(published):
        fail(f"JWKS after the rotation {sorted(published)} lacks the retired, current or next key")
    ok("JWKS after the rotation: the retired, current and new next keys")
    json.dump({"a": a, "kid_a": kid_a, "jwk_a": jwk_a, "kid_b": kid_b, "rotated_at": rotated_at},
              open(STATE, "w"))


def step_retired():
    st = json.load(open(STATE))
    a, kid_a, kid_b = st["a"], st["kid_a"], st["kid_b"]
    # A token of the current key, which the second rotation retires: still live, so still published.
    c = mint(bearer(CLI), "token C")
    after, _ = call("POST", "/api/admin/keys/rotate", bearer(ADMIN))
    if {k["kid"]: k["state"] for k in after}.get(kid_b) != "retired":
        fail(f"second rotation: {after}; expected {kid_b} retired")
    verified(c, "token C (its key retired a moment ago)")
    ok(f"second rotation: token C of the key just retired ({kid_b}) still verifies")

    published = jwks()
    if kid_a in published:
        fail(f"A's key {kid_a} is still in the JWKS {time.time() - st['rotated_at']:.1f} s after its "
             f"rotation (publish window TTL + 15 s = {TTL + 15} s)")
    try:
        key = jwt.PyJWKClient(JWKS).get_signing_key_from_jwt(a)
    except jwt.PyJWKClientError as e:
        ok(f"{time.time() - st['rotated_at']:.0f} s after the rotation A's kid is gone from the JWKS, and "
           f"PyJWKClient refuses token A at the key lookup: {e}")
    else:
        try:
            jwt.decode(a, key.key, algorithms=["EdDSA"], audience=PUB, issuer=PUB,
                       options={"require": REQUIRE, "verify_exp": False})
        except jwt.PyJWTError as e:
            fail(f"PyJWKClient still finds a key for kid {kid_a} (token A then fails: {e})")
        fail(f"PyJWKClient still finds A's key {kid_a}: token A verifies, its expiry aside")
    # The refusal is the key's absence, not A's age: with the old public key A still verifies.
    old = jwt.PyJWK(st["jwk_a"]).key
    jwt.decode(a, old, algorithms=["EdDSA"], audience=PUB, issuer=PUB,
               options={"require": REQUIRE, "verify_exp": False})
    try:
        jwt.decode(a, old, algorithms=["EdDSA"], audience=PUB, issuer=PUB, options={"require": REQUIRE})
        fail("token A has not expired")
    except jwt.ExpiredSignatureError:
        pass
    ok("token A itself is intact (expired, but it verifies against the retired public key kept aside, "
       "with verify_exp off): the JWKS refusal is the key's absence")


{"metadata": step_metadata, "tokens": step_tokens, "rotate": step_rotate, "retired": step_retired}[sys.argv[1]]()
PY

# step NAME : one Python step; its ok lines count, a FAIL ends the run.
step() {
  local rc=0
  B=$B TTL=$TTL WORK=$WORK CLI=$CLI ADMIN=$ADMIN KEY=$KEY KEY_ID=$KEY_ID "$PY" "$WORK/check.py" "$1" > "$WORK/out" 2>&1 || rc=$?
  cat "$WORK/out"
  PASSED=$((PASSED + $(grep -c '^ok: ' "$WORK/out" || true)))
  [ "$rc" = 0 ] || fail "step $1 (exit $rc)"
}

step metadata
step tokens
step rotate
# A's key was retired at the rotation: published until then + TTL + 15 s (18 s). Wait it out.
ROTATED_AT=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["rotated_at"])' "$WORK/state.json")
WAIT=$(python3 -c 'import sys,time;print(max(0.0, float(sys.argv[1]) + int(sys.argv[2]) + 15 + 2 - time.time()))' "$ROTATED_AT" "$TTL")
echo "waiting ${WAIT%.*} s for the retired key's publish window (TTL + 15 s) to pass"
sleep "$WAIT"
step retired
echo "jwt-pyjwt: $PASSED passed, 0 failed"
