"""Load on ``derivcheck serve``: 200 concurrent requests on 127.0.0.1, slow and hostile
ones mixed in. Checks that none is lost, that the slow ones come back ``unknown`` at the
budget and the hostile ones as errors, and prints p50 / p95 latency; then a warm server's
latency one request at a time against the CLI's start-up.

    python benchmarks/bench_serve.py [--requests 200] [--jobs 2] [--timeout 1]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVE = "import sys; from derivcheck.app.cli import main; sys.exit(main(sys.argv[1:]))"

CHAINS = [{"weights": ["w1", "w2"], "activations": act} for act in ("relu", "sigmoid", "tanh")]
RIGHT = {"relu": "(relu(w2*relu(w1*x)) - y)*step(w2*relu(w1*x))*w2*step(w1*x)*x",
         "sigmoid": "dC/dz2*w2*sigmoid(z1)*(1 - sigmoid(z1))*x",
         "tanh": "dC/dz2*w2*(1 - tanh(z1)^2)*x"}
WRONG = "(y - a2)*w2*x"
SLOW = {"network": {"widths": [1, 99, 99, 1], "activations": "relu"}, "wrt": "W0_1_1",
        "candidate": "x"}


def hostile() -> list:
    """(body bytes, expected HTTP status, expected error kind)."""
    net = {"weights": ["w1"], "activations": "relu"}
    deep = "(" * 5000 + "x" + ")" * 5000
    return [
        (b"{not json", 400, "invalid_json"),
        (b"[]", 400, "invalid_item"),
        (json.dumps({"network": net, "candidate": deep}).encode(), 400, "limit_exceeded"),
        (json.dumps({"network": net, "candidate": "9^(9^(9^9))"}).encode(), 400,
         "limit_exceeded"),
        (json.dumps({"network": net, "candidate": "__import__('os')"}).encode(), 400,
         "parse_error"),
        (json.dumps({"network": {"weights": ["w1"] * 3}, "candidate": "x"}).encode(), 400,
         "network_error"),
        (json.dumps({"network": net, "candidate": "x" * 2_000_000}).encode(), 413,
         "limit_exceeded"),
        (b'{"network": {"weights": ["w1"]}, "candidate": "x", "wrt": NaN}', 400,
         "invalid_json"),
    ]


def requests(count: int, slow: int, seed: int = 0) -> list:
    """(label, path, body bytes, check) for ``count`` requests."""
    rng = random.Random(seed)
    out = []
    bad = hostile()
    for i in range(count):
        if i % (count // slow) == 0 and sum(r[0] == "slow" for r in out) < slow:
            out.append(("slow", "/api/check", json.dumps(SLOW).encode(),
                        lambda s, b: s == 200 and b["verdict"] == "unknown"))
        elif i % 9 == 4:
            body, status, kind = bad[(i // 9) % len(bad)]
            out.append(("hostile", "/api/check", body,
                        lambda s, b, st=status, k=kind: s == st and b["error"]["kind"] == k))
        elif i % 11 == 7:
            net = rng.choice(CHAINS)
            out.append(("gradient", "/api/gradient", json.dumps({"network": net}).encode(),
                        lambda s, b: s == 200 and set(b["gradients"]) == {"w1", "w2"}))
        else:
            net = rng.choice(CHAINS)
            right = rng.random() < 0.5
            candidate = RIGHT[net["activations"]] if right else WRONG
            want = "equivalent" if right else "not_equivalent"
            item = {"network": net, "wrt": "w1", "candidate": candidate}
            out.append(("check", "/api/check", json.dumps(item).encode(),
                        lambda s, b, w=want: s == 200 and b["verdict"] == w))
    return out


def start_server(jobs: int, timeout: float):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-c", SERVE, "serve", "--host", "127.0.0.1",
                             "--port", str(port), "-j", str(jobs), "--timeout", str(timeout)],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if json.load(urllib.request.urlopen(base + "/healthz", timeout=2))["idle"] == jobs:
                return proc, base
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


async def fire(base: str, batch: list) -> list:
    """Send every request at once; (label, seconds, ok) for each."""
    import httpx
    limits = httpx.Limits(max_connections=len(batch), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=600, limits=limits) as client:
        async def one(label, path, body, check):
            start = time.monotonic()
            response = await client.post(path, content=body,
                                         headers={"content-type": "application/json"})
            seconds = time.monotonic() - start
            try:
                ok = check(response.status_code, response.json())
            except (ValueError, KeyError, TypeError):
                ok = False
            return label, seconds, ok
        return await asyncio.gather(*(one(*r) for r in batch))


def percentile(values, q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--slow", type=int, default=6, help="slow items among them")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1.0)
    args = parser.parse_args(argv)
    proc, base = start_server(args.jobs, args.timeout)
    try:
        batch = requests(args.requests, args.slow)
        started = time.monotonic()
        results = asyncio.run(fire(base, batch))
        wall = time.monotonic() - started
        lost = [r for r in results if not r[2]]
        print(f"{len(results)} concurrent requests ({args.jobs} workers, budget "
              f"{args.timeout:g} s) answered in {wall:.1f} s; wrong or lost: {len(lost)}")
        for label in ("check", "gradient", "hostile", "slow"):
            times = [s for lab, s, _ in results if lab == label]
            if times:
                print(f"  {label:<9} {len(times):>4}  p50 {percentile(times, .5) * 1000:7.0f} ms"
                      f"  p95 {percentile(times, .95) * 1000:7.0f} ms")
        every = [s for _, s, _ in results]
        print(f"  {'all':<9} {len(every):>4}  p50 {percentile(every, .5) * 1000:7.0f} ms"
              f"  p95 {percentile(every, .95) * 1000:7.0f} ms")
        one = [r for r in requests(40, 1)[1:] if r[0] == "check"][:20]
        warm = [asyncio.run(fire(base, [r]))[0][1] for r in one]
        print(f"warm server, one check at a time: median {statistics.median(warm) * 1000:.0f} ms")
    finally:
        proc.terminate()
        proc.wait(10)
    cli = []
    for _ in range(3):
        start = time.monotonic()
        subprocess.run([sys.executable, "-c", SERVE, "check", "--weights", "w1,w2", "--act",
                        "relu", "--wrt", "w1", WRONG], cwd=ROOT, capture_output=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
        cli.append(time.monotonic() - start)
    print(f"the CLI, one check per process: median {statistics.median(cli) * 1000:.0f} ms")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
