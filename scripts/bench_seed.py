#!/usr/bin/env python3
"""Bulk-seeds sessions for scripts/bench.sh, on SQLite (executemany) or PostgreSQL (psql \\copy
fed a CSV stream), into a migrated database.

  bench_seed.py DATABASE_URL --user NAME [--client NAME] [--live N] [--expired M]
                [--tokens FILE --known K]

Creates user NAME (password hash 'x', so nobody logs in as it) unless it exists, then N live
sessions (expiring in 10 days) and M expired ones (expired 1 to 30 days ago), interleaved, of
client NAME (default: the first client). With --tokens, the first K live sessions get real
tokens (the server's format: `tss_` + 32 base62 characters + a 6-character base62 CRC-32), written
one a line to FILE; every other session gets a random digest. Digests are the lowercase hex of
SHA-256 of the token, as the server stores them.
"""
import argparse, hashlib, os, sqlite3, subprocess, sys, time, uuid, zlib

A = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
COLUMNS = ("id, kind, user_id, client_id, device_name, user_agent, created, last_used, renewed, "
           "authenticated_at, expiry, token_digest, token_hint")
DAY = 86400 * 10**6


def b62(x, width):
    s = ""
    while x:
        x, r = divmod(x, 62)
        s = A[r] + s
    return s.rjust(width, "0")


def token():
    body = "tss_" + "".join(A[b % 62] for b in os.urandom(32))
    return body + b62(zlib.crc32(body.encode()), 6)


def rows(uid, cid, live, expired, known, tokens_out):
    """(id, user, client, created, last_used, renewed, authenticated_at, expiry, digest) tuples."""
    now = int(time.time() * 1e6)
    total, e = live + expired, 0
    k = 0
    for i in range(total):
        if e < expired and i * expired >= e * total:  # spread the expired ones evenly
            e += 1
            ago = DAY + (i % 29) * DAY
            created = now - ago - DAY
            yield (str(uuid.uuid4()), uid, cid, created, created, created, created, now - ago, os.urandom(32).hex())
            continue
        if k < known:
            t = token()
            tokens_out.write(t + "\n")
            digest = hashlib.sha256(t.encode()).hexdigest()
            k += 1
        else:
            digest = os.urandom(32).hex()
        yield (str(uuid.uuid4()), uid, cid, now, now, now, now, now + 10 * DAY, digest)


def sqlite_seed(path, a, tokens_out):
    c = sqlite3.connect(path)
    now = int(time.time() * 1e6)
    c.execute("INSERT INTO users (username, password_hash, is_active, is_admin, created) "
              "SELECT ?, 'x', 1, 0, ? WHERE NOT EXISTS (SELECT 1 FROM users WHERE username = ?)", (a.user, now, a.user))
    uid = c.execute("SELECT id FROM users WHERE username = ?", (a.user,)).fetchone()[0]
    q = "SELECT id FROM clients ORDER BY id LIMIT 1" if a.client is None else "SELECT id FROM clients WHERE name = ?"
    cid = c.execute(q, () if a.client is None else (a.client,)).fetchone()[0]
    c.executemany(f"INSERT INTO sessions ({COLUMNS}) VALUES (?, 'session', ?, ?, 'seed', '', ?, ?, ?, ?, ?, ?, 'tss_seed')",
                  rows(uid, cid, a.live, a.expired, a.known, tokens_out))
    c.commit()


def psql(url, *args, **kw):
    return subprocess.run(["psql", url, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", *args], check=True, **kw)


def pg_one(url, sql):
    return psql(url, "-c", sql, stdout=subprocess.PIPE, text=True).stdout.strip()


def pg_seed(url, a, tokens_out):
    now = int(time.time() * 1e6)
    user = a.user.replace("'", "''")
    psql(url, "-c", f"INSERT INTO users (username, password_hash, is_active, is_admin, created) "
                    f"SELECT '{user}', 'x', true, false, {now} WHERE NOT EXISTS (SELECT 1 FROM users WHERE username = '{user}')")
    uid = int(pg_one(url, f"SELECT id FROM users WHERE username = '{user}'"))
    where = "ORDER BY id LIMIT 1" if a.client is None else "WHERE name = '" + a.client.replace("'", "''") + "'"
    cid = int(pg_one(url, f"SELECT id FROM clients {where}"))
    p = subprocess.Popen(["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                          f"\\copy sessions ({COLUMNS}) from pstdin with (format csv)"],
                         stdin=subprocess.PIPE, text=True, bufsize=1 << 20)
    buf = []
    for (sid, u, c, created, last_used, renewed, auth_at, expiry, digest) in rows(uid, cid, a.live, a.expired, a.known, tokens_out):
        buf.append(f'{sid},session,{u},{c},seed,"",{created},{last_used},{renewed},{auth_at},{expiry},{digest},tss_seed\n')
        if len(buf) >= 10000:
            p.stdin.write("".join(buf))
            buf.clear()
    p.stdin.write("".join(buf))
    p.stdin.close()
    if p.wait() != 0:
        sys.exit("psql \\copy failed")
    psql(url, "-c", "ANALYZE sessions")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--user", required=True)
    ap.add_argument("--client")
    ap.add_argument("--live", type=int, default=0)
    ap.add_argument("--expired", type=int, default=0)
    ap.add_argument("--tokens")
    ap.add_argument("--known", type=int, default=0)
    a = ap.parse_args()
    if a.known and not a.tokens:
        ap.error("--known needs --tokens")
    tokens_out = open(a.tokens, "w") if a.tokens else open(os.devnull, "w")
    with tokens_out:
        if a.url.startswith("sqlite://"):
            sqlite_seed(a.url[len("sqlite://"):].split("?")[0], a, tokens_out)
        elif a.url.startswith(("postgres://", "postgresql://")):
            pg_seed(a.url, a, tokens_out)
        else:
            sys.exit(f"unsupported database URL {a.url}")


if __name__ == "__main__":
    main()
