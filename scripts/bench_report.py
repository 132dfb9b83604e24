#!/usr/bin/env python3
"""Prints scripts/bench.sh's report from its work directory: wrk outputs (NAME.out), CPU ticks
of the server and of PostgreSQL around each run (NAME.cpu: "server postgres"), `meta` (key=value),
server logs, and the revocation probe's JSON.

  bench_report.py WORKDIR
"""
import json, math, os, re, sys
from statistics import median
from datetime import datetime

work = sys.argv[1]
meta = dict(line.rstrip("\n").split("=", 1) for line in open(f"{work}/meta"))
cores, tck = int(meta["cores"]), int(meta["clk_tck"])
rounds = int(meta.get("rounds", 1))
pg = meta["backend"] == "pg"
backend = "PostgreSQL" if pg else "SQLite"


def have(name):
    return os.path.exists(f"{work}/{name}.out")


def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", v)
    if not m:
        print(f"(unreadable wrk latency {v!r})", file=sys.stderr)
        return float("nan")
    n, unit = m.groups()
    return float(n) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


class Run:
    """One wrk run: req/s, p50/p99 ms, requests, non-2xx, socket errors, CPU µs per request."""

    def __init__(self, name):
        t = open(f"{work}/{name}.out").read()
        self.rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
        # The distribution's own lines: "85.50%" elsewhere must not pass for its 50 %.
        self.p50 = ms(re.search(r"^\s*50%\s+(\S+)", t, re.M).group(1))
        self.p99 = ms(re.search(r"^\s*99%\s+(\S+)", t, re.M).group(1))
        self.requests = int(re.search(r"(\d+) requests in ([\d.]+\w+)", t).group(1))
        self.seconds = ms(re.search(r"\d+ requests in ([\d.]+\w+)", t).group(1)) / 1000
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
        self.non2xx = int(errors.group(1)) if errors else 0
        sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
        self.socket_errors = sum(map(int, sock.groups())) if sock else 0
        self.cpu = self.pg_cpu = float("nan")
        if os.path.exists(f"{work}/{name}.cpu") and self.requests:
            server, postgres = map(int, open(f"{work}/{name}.cpu").read().split())
            self.cpu = server * 1e6 / tck / self.requests
            self.pg_cpu = postgres * 1e6 / tck / self.requests

    def errors(self):
        return f"{self.non2xx}" + (f" (+{self.socket_errors} socket errors)" if self.socket_errors else "")


class Row:
    """One cached row over the interleaved rounds (NAME_r1.out, NAME_r2.out, …): the medians of
    req/s, p50, p99 and CPU per request, and of the ratios to /healthz taken within each round."""

    def __init__(self, name, base=None):
        self.runs = [Run(f"{name}_r{r}") for r in range(1, rounds + 1)]
        for attr in ["rps", "p50", "p99", "cpu", "pg_cpu"]:
            setattr(self, attr, median([getattr(r, attr) for r in self.runs]))
        self.non2xx = sum(r.non2xx for r in self.runs)
        self.socket_errors = sum(r.socket_errors for r in self.runs)
        base = base or self
        shares = [100 * r.rps / b.rps for r, b in zip(self.runs, base.runs)]
        cpus = [100 * r.cpu / b.cpu for r, b in zip(self.runs, base.runs)]
        self.share, self.cpu_share = median(shares), median(cpus)
        self.share_range = f"{min(shares):.1f}–{max(shares):.1f}"

    errors = Run.errors


def pct(values, q):
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s)) - 1)]


base = Row("healthz")
one_login_ms = ms(re.search(r"Latency\s+(\S+)", open(f"{work}/argon2.out").read()).group(1))
bound = cores / (one_login_ms / 1000)
print(f"\nTessera benchmark on {backend}: {cores} cores, {meta['sessions']} seeded sessions, "
      f"wrk -t2 -c16 keep-alive, {meta['duration']} s a row, medians of {rounds} interleaved rounds\n")
pg_head, pg_rule = (" PostgreSQL CPU µs/req |", "---|") if pg else ("", "")
print(f"| endpoint | req/s | p50 ms | p99 ms | vs /healthz (range) | server CPU µs/req | CPU vs /healthz |{pg_head} non-2xx |")
print(f"|---|---|---|---|---|---|---|{pg_rule}---|")
for name, label in [("healthz", "GET /healthz"), ("me", "GET /api/auth/me"), ("verify", "GET /api/auth/verify"),
                    ("verify_cookie", "GET /api/auth/verify (cookie)"),
                    ("verify_apikey", "GET /api/auth/verify?scope= (X-Api-Key)"),
                    ("verify_jwt", "GET /api/auth/verify?jwt=true")]:
    r = Row(name, base)
    pg_cell = f" {r.pg_cpu:,.1f} |" if pg else ""
    print(f"| {label} | {r.rps:,.0f} | {r.p50:.2f} | {r.p99:.2f} | {r.share:.1f} % ({r.share_range}) | "
          f"{r.cpu:,.1f} | {r.cpu_share:.0f} % |{pg_cell} {r.errors()} |")
r = Run("login")
print(f"| POST /api/auth/login | {r.rps:,.0f} | {r.p50:.2f} | {r.p99:.2f} | | {r.cpu:,.1f} | |{' |' if pg else ''} {r.errors()} |")
verify = Row("verify", base)
jwt = Row("verify_jwt", verify)
print(f"\nverify?jwt=true reaches {jwt.share:.1f} % ({jwt.share_range}) of verify, round by round")
print(f"\nArgon2 bound: {cores} cores / {one_login_ms:.1f} ms per login = {bound:.0f} logins/s; "
      f"login reaches {100 * Run('login').rps / bound:.0f} % of it")
print(f"Peak RSS of the server: {int(meta['rss_kb']) / 1024:.1f} MB")
if os.path.exists(f"{work}/cold_cache.txt"):
    hits, misses = map(int, open(f"{work}/cold_cache.txt").read().split())
    r = Run("verify_cold")
    pg_part = f", PostgreSQL {r.pg_cpu:,.1f} µs/req (cached: {verify.pg_cpu:,.1f})" if pg else ""
    known = sum(1 for _ in open(f"{work}/tokens.txt"))
    print(f"\nCold cache ({known:,} known tokens among the seeded sessions, cycled): {r.rps:,.0f} req/s = "
          f"{100 * r.rps / verify.rps:.1f} % of cached verify, p50 {r.p50:.2f} ms, p99 {r.p99:.2f} ms, {r.errors()} non-2xx, "
          f"cache misses {100 * misses / max(1, hits + misses):.0f} % of {hits + misses:,} verifications; "
          f"server CPU {r.cpu:,.1f} µs/req (cached: {verify.cpu:,.1f}){pg_part}")
if meta["flood"] == "1":
    print(f"\nVerification during a login flood (64 connections), against quiet verify ({verify.rps:,.0f} req/s, p99 {verify.p99:.2f} ms):\n")
    print("| Argon2 workers | verify req/s | vs quiet | verify p99 ms | logins/s meanwhile |")
    print("|---|---|---|---|---|")
    for label, name in [("nice 10 (now)", "nice10"), ("nice 0 (as before)", "nice0")]:
        r = Run(f"flood_{name}")
        logins = float(re.search(r"Requests/sec:\s+([\d.]+)", open(f"{work}/flood_login_{name}.out").read()).group(1))
        print(f"| {label} | {r.rps:,.0f} | {100 * r.rps / verify.rps:.1f} % | {r.p99:.2f} | {logins:,.0f} |")


def log_time(line):
    """The epoch seconds of a tracing log line (RFC 3339, UTC)."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", line)
    return datetime.fromisoformat(m.group(1) + "+00:00").timestamp() + float("0." + (m.group(2) or "0"))


if "purge_sessions" in meta:
    t_start, t_load = float(meta["purge_t_start"]), float(meta["purge_t_load"])
    lines = open(f"{work}/purge.log").read().splitlines()
    done = next(l for l in lines if "expired sessions purged" in l)
    listening = next((l for l in lines if "tessera listening" in l), None)
    purged = int(re.search(r"purged=(\d+)", done).group(1))
    took = log_time(done) - t_start
    print(f"\nPurge under load on {backend}: {int(meta['purge_sessions']):,} sessions seeded, "
          f"{int(meta['purge_expired']):,} of them expired, batch {meta['purge_batch']}")
    up = f" (listening after {log_time(listening) - t_start:.2f} s)" if listening else ""
    print(f"purged {purged:,} rows in {took:.2f} s from server start{up} = {purged / took:,.0f} rows/s")
    if log_time(done) < t_load:
        print(f"(the purge ended {t_load - log_time(done):.2f} s before the load began: seed more sessions to measure it)")
    during, after = Run("purge_during"), Run("purge_after")
    print("\n| verify, wrk -t2 -c16 | seconds | req/s | p50 ms | p99 ms | server CPU µs/req | non-2xx |")
    print("|---|---|---|---|---|---|---|")
    for label, r in [("during the purge", during), ("after it", after)]:
        print(f"| {label} | {r.seconds:.1f} | {r.rps:,.0f} | {r.p50:.2f} | {r.p99:.2f} | {r.cpu:,.1f} | {r.errors()} |")
    print(f"\nduring / after: req/s {100 * during.rps / after.rps:.1f} %, p99 {during.p99 / after.p99:.1f}×")
    print(f"target: verify p99 during the purge <= 10 ms: {'met' if during.p99 <= 10 else 'NOT met'} ({during.p99:.2f} ms)")

if have("inst_one"):
    one, a, b = Run("inst_one"), Run("inst_both_a"), Run("inst_both_b")
    both_cpu = both_pg = float("nan")
    server, postgres = map(int, open(f"{work}/inst_both.cpu").read().split())
    if a.requests + b.requests:
        both_cpu = server * 1e6 / tck / (a.requests + b.requests)
        both_pg = postgres * 1e6 / tck / (a.requests + b.requests)
    agg = a.rps + b.rps
    print("\nTwo instances, one PostgreSQL database, Redis budgets: GET /api/auth/verify (bearer)\n")
    print("| load | req/s | p99 ms | server CPU µs/req | PostgreSQL CPU µs/req | non-2xx |")
    print("|---|---|---|---|---|---|")
    print(f"| A alone, wrk -t2 -c16 | {one.rps:,.0f} | {one.p99:.2f} | {one.cpu:,.1f} | {one.pg_cpu:,.1f} | {one.errors()} |")
    print(f"| A + B, wrk -t1 -c8 each | {agg:,.0f} (A {a.rps:,.0f}, B {b.rps:,.0f}) | {max(a.p99, b.p99):.2f} | "
          f"{both_cpu:,.1f} (A + B) | {both_pg:,.1f} | {a.non2xx + b.non2xx} |")
    print(f"\naggregate of two instances = {100 * agg / one.rps:.1f} % of one instance alone")
    rev = json.load(open(f"{work}/revocation.json"))
    d = rev["delays_ms"]
    la, lb = Run("inst_probe_a"), Run("inst_probe_b")
    if d:
        p99 = pct(d, 0.99)
        print(f"\nRevocation delay under that load ({la.rps + lb.rps:,.0f} req/s meanwhile), {len(d)} tokens: logout on A, "
              f"then verify on B until 401: p50 {pct(d, 0.5):.2f} ms, p99 {p99:.2f} ms, max {max(d):.2f} ms "
              f"(median {pct(rev['polls'], 0.5)} polls on B)")
        print(f"target: p99 <= 100 ms: {'met' if p99 <= 100 else 'NOT met'}")
    else:
        print("\nRevocation delay: no measurement (see the unexpected answers below)")
    if rev["timeouts"]:
        print(f"{rev['timeouts']} tokens still verified on B 15 s after their logout on A")
    for what, n in rev["unexpected"].items():
        print(f"unexpected: {what} ({n}×)")
    print("slowest single request of the probe: " + ", ".join(f"{what} {v:,.1f} ms" for what, v in rev["slowest_ms"].items()))
    if la.non2xx + lb.non2xx:
        print(f"non-2xx of the load meanwhile: {la.non2xx + lb.non2xx}")

notes = []
for log in ["server", "purge", "a", "b"]:
    path = f"{work}/{log}.log"
    if not os.path.exists(path):
        continue
    bad = [l for l in open(path).read().splitlines() if re.search(r"\b(WARN|ERROR)\b", l)]
    if bad:
        notes.append(f"{log}.log: {len(bad)} warnings/errors, e.g.\n    " + "\n    ".join(bad[:3]))
if notes:
    print("\nServer logs:\n  " + "\n  ".join(notes))
