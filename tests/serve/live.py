"""A real ``derivcheck serve`` on a free port of 127.0.0.1, for tests that need HTTP."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVE = "import sys; from derivcheck.app.cli import main; sys.exit(main(sys.argv[1:]))"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(jobs: int = 2, timeout: float = 10.0):
    """The base address of a running server, stopped on the way out."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVE, "serve", "--port", str(port),
                             "-j", str(jobs), "--timeout", str(timeout)],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = json.load(urllib.request.urlopen(base + "/healthz", timeout=2))
                if health["idle"] == jobs:
                    break
            except OSError:
                pass
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)
