"""Worker processes: a hanging or crashing request never blocks or breaks another."""
import asyncio
import os
import time

from starlette.testclient import TestClient

from derivcheck.serve.app import create_app
from derivcheck.serve.grading import run_job
from derivcheck.serve.pool import CRASHED, TIMED_OUT, Pool

CHAIN = {"weights": ["w1"], "activations": "relu"}


def misbehave(job, timeout):
    """A handler (module-level, so workers import it) that hangs or dies on request."""
    candidate = job[1].get("candidate")
    if candidate == "HANG":
        while True:  # no alarm is set: only the pool's hard limit ends this
            time.sleep(1)
    if candidate == "CRASH":
        os._exit(3)
    return run_job(job, timeout)


def job(candidate):
    return ("check", {"network": CHAIN, "wrt": "w1", "candidate": candidate}, {})


def test_hang_and_crash_answer_alone_and_workers_are_replaced():
    async def scenario():
        async with Pool(2, timeout=0.2, grace=0.3, handler=misbehave) as pool:
            started = time.monotonic()
            answers = await asyncio.gather(*(pool.run(job(c)) for c in
                                             ["HANG", "x*step(w1*x)", "CRASH", "x", "HANG",
                                              "(relu(w1*x)-y)*step(w1*x)*x"]))
            elapsed = time.monotonic() - started
            after = await pool.run(job("x"))
            return answers, elapsed, after, pool.replaced
    answers, elapsed, after, replaced = asyncio.run(scenario())
    statuses = [a[0] for a in answers]
    assert statuses == [TIMED_OUT, "ok", CRASHED, "ok", TIMED_OUT, "ok"]
    verdicts = [a[1][1]["verdict"] for a in answers if a[0] == "ok"]
    assert verdicts == ["not_equivalent", "not_equivalent", "equivalent"]
    assert replaced == 3 and after[0] == "ok"
    assert elapsed < 20


def test_server_answers_unknown_past_the_hard_limit_and_500_for_a_crash():
    with TestClient(create_app(1, timeout=0.2, grace=0.3, handler=misbehave)) as client:
        hung = client.post("/api/check", json=job("HANG")[1])
        assert hung.status_code == 200
        body = hung.json()
        assert body["verdict"] == "unknown" and "worker was stopped" in body["reason"]
        assert body["counterexample"] is None and body["diagnosis"] == []
        crashed = client.post("/api/check", json=job("CRASH")[1])
        assert crashed.status_code == 500 and crashed.json()["error"]["kind"] == "crash"
        fine = client.post("/api/check", json=job("(relu(w1*x)-y)*step(w1*x)*x")[1])
        assert fine.json()["verdict"] == "equivalent"
