#!/usr/bin/env python3
"""Cross-instance revocation delay for scripts/bench.sh --instances.

  bench_revocation_delay.py tokens HOST:PORT K FILE    log in K times (client `cli`), tokens to FILE
  bench_revocation_delay.py probe A B FILE OUT.json    for each token of FILE: verify it on B (200,
      now cached on B), log it out on A (204; t0 when A's response is read), then poll verify on B
      until it answers 401 (t1); writes the delays t1 - t0 (ms), any unexpected answers and the
      slowest single request of each kind to OUT.

Keep-alive connections (http.client), time.perf_counter.
"""
import http.client, json, sys, time

USER, PASSWORD = "bench", "bench-password"
GIVE_UP = 15.0  # seconds; beyond the cache TTL (10 s) a revocation can only be missed by a bug


class Conn:
    """One keep-alive connection that reconnects when the server closes it. A request that fails
    (no answer within TIMEOUT, or the connection lost twice) returns the status None."""

    TIMEOUT = 20

    def __init__(self, hostport):
        self.hostport = hostport
        self.c = None

    def request(self, method, path, headers=None, body=None):
        for attempt in (1, 2):
            if self.c is None:
                self.c = http.client.HTTPConnection(self.hostport, timeout=self.TIMEOUT)
            try:
                self.c.request(method, path, body=body, headers=headers or {})
                r = self.c.getresponse()
                return r.status, r.read()
            except TimeoutError:
                self.c.close()
                self.c = None
                return None, b"timeout"
            except (http.client.HTTPException, ConnectionError) as err:
                self.c.close()
                self.c = None
                if attempt == 2:
                    return None, repr(err).encode()


def tokens(hostport, k, path):
    c = Conn(hostport)
    body = json.dumps({"username": USER, "password": PASSWORD, "client": "cli"})
    with open(path, "w") as f:
        for _ in range(k):
            status, data = c.request("POST", "/api/auth/login", {"Content-Type": "application/json"}, body)
            if status != 200:  # None: no answer
                sys.exit(f"login on {hostport} answered {status}: {data[:200]!r}")
            f.write(json.loads(data)["token"] + "\n")


def probe(a, b, path, out):
    ca, cb = Conn(a), Conn(b)
    delays, polls, unexpected, timeouts = [], [], {}, 0

    slowest = {}  # what -> the longest one request took, ms

    def odd(what, status):
        key = f"{what} {status or 'no answer'}"
        unexpected[key] = unexpected.get(key, 0) + 1

    def timed(what, conn, method, path, headers):
        start = time.perf_counter()
        status, _ = conn.request(method, path, headers)
        end = time.perf_counter()
        slowest[what] = max(slowest.get(what, 0), (end - start) * 1000)
        return status, end

    for t in open(path).read().split():
        auth = {"Authorization": "Bearer " + t}
        status, _ = timed("verify on B before logout", cb, "GET", "/api/auth/verify", auth)
        if status != 200:
            odd("verify on B before logout", status)
            continue
        status, t0 = timed("logout on A", ca, "POST", "/api/auth/logout", auth)
        if status != 204:
            odd("logout on A", status)
            continue
        n = 0
        while True:
            status, t1 = timed("verify on B after logout", cb, "GET", "/api/auth/verify", auth)
            n += 1
            if status == 401:
                delays.append((t1 - t0) * 1000)
                polls.append(n)
                break
            if status != 200:
                odd("verify on B after logout", status)
            if t1 - t0 > GIVE_UP:
                timeouts += 1
                break
    json.dump({"delays_ms": delays, "polls": polls, "unexpected": unexpected, "timeouts": timeouts,
               "slowest_ms": slowest}, open(out, "w"))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "tokens":
        tokens(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) == 6 and sys.argv[1] == "probe":
        probe(*sys.argv[2:])
    else:
        sys.exit(__doc__)
