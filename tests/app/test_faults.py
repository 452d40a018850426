"""Fault injection on ``derivcheck batch`` (issue 14): runs killed at random moments and
resumed, a full disk then a resume, read-only outputs. After any sequence of kills and
resumes the output holds exactly one record per non-blank input line, every id is graded
once, and the summary counts equal the lines (CONTRACT section 2).

The figures printed by :func:`test_killed_at_random_moments_and_resumed` (``-s``) are
those quoted in the README's "Untrusted input" section.
"""
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from derivcheck.app.batch import run_batch
from derivcheck.errors import OutputError

from .test_limits import ROOT, cli

NET = {"weights": ["w1"], "activations": "relu"}
RIGHT = "x*(relu(w1*x)-y)*step(w1*x)"
WRONG = "x*(y-relu(w1*x))"


def item(ident, candidate=RIGHT, **extra):
    return json.dumps({"id": ident, "network": NET, "wrt": "w1", "candidate": candidate,
                       **extra})


def hostile_input(path: Path) -> dict:
    """Write a batch input with good, wrong, bad, duplicate, huge, hanging and crashing
    lines; returns {line number: expected outcome} for its non-blank lines."""
    lines, expect = [], {}

    def add(text, outcome):
        lines.append(text)
        if outcome is not None:
            expect[len(lines)] = outcome
    add('{"id": "s3", oops', ("null", "invalid_json"))  # a broken line naming a real id
    for i in range(12):
        add(item(f"s{i}", [RIGHT, WRONG][i % 2]),
            ("s%d" % i, ["equivalent", "not_equivalent"][i % 2]))
        if i == 4:
            add(item("hang", "HANG"), ("hang", "timeout"))
            add("", None)
            add(item(5, WRONG), ("5", "not_equivalent"))  # an id equal to a line number
        if i == 7:
            add(item("crash", "CRASH"), ("crash", "crash"))
            add(item("big", "x" + "+x" * 1_000_000), ("big", "limit_exceeded"))  # 2 MB
            add(item("s1"), ("s1", "duplicate_id"))
            add("[1, 2]", ("null", "invalid_json"))
    add('{"id": 1e400, "network": {}}', ("null", "invalid_json"))
    add(item(5), ("5", "duplicate_id"))
    add(json.dumps({"network": NET, "candidate": RIGHT}), ("null", "invalid_item"))
    add(item("hang2", "HANG"), ("hang2", "timeout"))
    with open(path, "wb") as fh:
        fh.write("".join(x + "\n" for x in lines).encode())
        fh.write(b'{"id": "\xff"}\n')
    expect[len(lines) + 1] = ("null", "invalid_json")
    return expect


RUNNER = """\
import json, sys
from derivcheck import limits
limits.TIMEOUT_SLACK, limits.BATCH_GRACE = 0.2, 0.3
from derivcheck.app.batch import run_batch
from tests.app.faulty import grade
s = run_batch(sys.argv[1], sys.argv[2], jobs=int(sys.argv[3]), timeout=2.0, progress=False,
              grade=grade)
print(json.dumps({"graded": s.graded, "skipped": s.skipped, "errors": s.errors,
                  "verdicts": s.verdicts}))
"""


def start(src: Path, out: Path, jobs: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", RUNNER, str(src), str(out), str(jobs)],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def whole_records(out: Path) -> list:
    """The complete records of ``out`` (a torn last line is left for the resume);
    asserts no input line has two."""
    if not out.exists():
        return []
    data = out.read_bytes()
    records = [json.loads(x) for x in data[: data.rfind(b"\n") + 1].splitlines()]
    numbers = [r["line"] for r in records]
    assert len(numbers) == len(set(numbers)), "a line was written twice"
    return records


def outcome(record: dict) -> tuple:
    ident = "null" if record["id"] is None else str(record["id"])
    return ident, record["error"]["kind"] if "error" in record else record["verdict"]


@pytest.mark.parametrize("jobs,seed", [(1, 1), (2, 2)])
def test_killed_at_random_moments_and_resumed(tmp_path, jobs, seed):
    rng = random.Random(seed)
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    expect = hostile_input(src)
    kills, torn, started = 0, 0, time.monotonic()
    while kills < 26:
        before = len(whole_records(out))
        proc = start(src, out, jobs)
        # kill at a random moment: some during start-up, most once records are flowing
        target = before + rng.randint(0, 3)
        deadline = time.monotonic() + rng.uniform(0.3, 3.0)
        while time.monotonic() < deadline and proc.poll() is None and \
                len(whole_records(out)) < target:
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.15))
        if proc.poll() is not None:  # it finished first: start again from nothing
            proc.communicate()
            out.unlink()
            continue
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        kills += 1
        if rng.random() < 0.3:  # a kill in the middle of a write
            with open(out, "a") as fh:
                fh.write('{"id": "s11", "line": 13, "verdict": "equiv')
            torn += 1
    proc = start(src, out, jobs)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    summary = json.loads(stdout)
    records = whole_records(out)
    assert out.read_bytes().endswith(b"\n")
    assert {r["line"]: outcome(r) for r in records} == expect
    assert summary["graded"] + summary["skipped"] == len(expect)
    graded = [r["id"] for r in records if r["id"] is not None
              and r.get("error", {}).get("kind") != "duplicate_id"]
    assert len(graded) == len(set(map(str, graded)))
    print(f"\n-j {jobs}: {kills} kills ({torn} with a torn write), "
          f"{len(expect)} lines, {time.monotonic() - started:.1f} s")


# -- full disks and read-only folders -----------------------------------------------------

@pytest.fixture
def disk(tmp_path):
    """A small tmpfs (64 kB) mounted for the test; skipped only where mounting is not
    permitted (not root, or no CAP_SYS_ADMIN in a container)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(mount: Path) -> Path:
    """Fill the disk to the last byte."""
    filler = mount / "filler"
    with open(filler, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"x" * 1024)
        except OSError:
            pass
    return filler


def remount(mount: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(mount)], check=True)


def test_full_disk_then_resume(tmp_path, disk):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(item(f"s{i}", [RIGHT, WRONG][i % 2]) + "\n" for i in range(120)))
    (disk / "filler").write_bytes(b"x" * 20_000)
    out = disk / "out.jsonl"
    with pytest.raises(OutputError) as info:
        run_batch(src, out, progress=False)
    assert "No space left on device" in info.value.message
    assert "running the same command again resumes" in info.value.message
    kept = whole_records(out)
    assert 0 < len(kept) < 120 and out.read_bytes().endswith(b"\n")  # whole lines only
    code, stdout, stderr, _ = cli("batch", str(src), "-o", str(out), "--no-progress")
    assert code == 2 and "No space left on device" in stderr and "Traceback" not in stderr
    remount(disk, "size=2m")
    summary = run_batch(src, out, progress=False)
    records = whole_records(out)
    assert sorted(r["line"] for r in records) == list(range(1, 121))
    assert summary.skipped == len(kept) and summary.graded == 120 - len(kept)


def test_full_disk_keeps_old_outputs_whole(tmp_path, disk):
    for args, name in ((["vectors", "--points", "200", "-o"], "v.json"),
                       (["sheet", "-o"], "s.tex")):
        path = disk / name
        path.write_text("old\n")
        filler = fill(disk)
        code, _, stderr, _ = cli(*args[:-1], "--weights", "w1,w2", "--act", "relu",
                                 args[-1], str(path))
        assert code == 2 and "No space left on device" in stderr, stderr
        assert "Traceback" not in stderr and path.read_text() == "old\n"
        assert [p.name for p in disk.iterdir() if p.name.startswith(".")] == []
        filler.unlink()


def test_read_only_outputs(tmp_path, disk):
    src = tmp_path / "in.jsonl"
    src.write_text(item("a") + "\n")
    (disk / "out.jsonl").write_text("")
    remount(disk, "ro")
    net = ["--weights", "w1", "--act", "relu"]
    for args in (["batch", str(src), "-o", str(disk / "out.jsonl")],
                 ["batch", str(src), "-o", str(disk / "new.jsonl")],
                 ["sheet", *net, "-o", str(disk / "s.tex")],
                 ["vectors", *net, "-o", str(disk / "v.json")],
                 ["check", *net, "--wrt", "w1", "--report", str(disk / "r.tex"), RIGHT]):
        code, stdout, stderr, _ = cli(*args)
        assert code == 2, (args, stderr)
        assert "not writable" in stderr or "Read-only" in stderr, stderr
        assert "Traceback" not in stderr and "internal error" not in stderr
    q = tmp_path / "q.toml"
    q.write_text('[networks.one]\nweights = ["w1"]\n[[formulas]]\nnetwork = "one"\n'
                 f'text = "{RIGHT}"\n')
    code, stdout, stderr, _ = cli("run", str(q), "--out", str(disk / "out"))
    assert code == 2 and "Read-only" in stderr and "Traceback" not in stderr


def test_a_report_that_cannot_be_written_keeps_the_verdict(tmp_path, disk):
    """check --report on a full disk: the verdict is printed, and the exit code is 2
    (documented), never 4; no half report is left."""
    fill(disk)
    code, stdout, stderr, _ = cli("check", "--weights", "w1", "--act", "relu", "--wrt", "w1",
                                  "--report", str(disk / "r.tex"), "x*(y-relu(w1*x))")
    assert code == 2 and "not_equivalent" in stdout
    assert "No space left on device" in stderr and "the verdict above stands" in stderr
    assert not (disk / "r.tex").exists()
