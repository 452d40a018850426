"""derivcheck.guard: the public timer behaviour of time_limit and Timeout."""
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from derivcheck.guard import Timeout, time_limit

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("seconds", [None, 0, -1])
def test_no_budget_means_no_limit(seconds):
    with time_limit(seconds):
        time.sleep(0.05)


def test_the_budget_interrupts_the_block():
    start = time.monotonic()
    with pytest.raises(Timeout) as err:
        with time_limit(0.05):
            time.sleep(2)
    assert time.monotonic() - start < 1 and err.value.seconds == 0.05


def test_a_timeout_is_not_an_exception_libraries_swallow():
    assert not issubclass(Timeout, Exception) and issubclass(Timeout, BaseException)


def test_a_swallowed_timeout_is_raised_again():
    with pytest.raises(Timeout):
        with time_limit(0.05):
            try:
                time.sleep(2)
            except BaseException:
                pass
            time.sleep(2)


def test_an_inner_limit_never_extends_the_outer_one():
    start = time.monotonic()
    with pytest.raises(Timeout):
        with time_limit(0.1):
            with time_limit(5):
                time.sleep(3)
    assert time.monotonic() - start < 1.5


def test_the_outer_limit_is_rearmed_after_an_inner_one():
    start = time.monotonic()
    with pytest.raises(Timeout):
        with time_limit(0.3):
            with pytest.raises(Timeout):
                with time_limit(0.05):
                    time.sleep(2)
            time.sleep(3)
    assert time.monotonic() - start < 1.5


def test_no_alarm_outside_the_main_thread():
    done = []

    def work():
        with time_limit(0.01):
            time.sleep(0.1)
        done.append(True)

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert done == [True]


def test_leaving_the_block_disarms_the_alarm():
    with time_limit(0.05):
        pass
    time.sleep(0.2)   # no Timeout after the block


def test_a_budget_running_out_inside_a_finalizer_is_raised_after_it_not_lost(tmp_path):
    """The collector runs finalizers anywhere (z3's AstRef.__del__, jax's gc callback):
    an alarm raised inside one is printed as "Exception ignored" and dropped; it waits
    for the next repeat and is raised in the code under the budget instead."""
    script = tmp_path / "fin.py"
    script.write_text(
        "import time\n"
        "from derivcheck.guard import time_limit, Timeout\n"
        "class Slow:\n"
        "    def __del__(self):\n"
        "        t = time.monotonic()\n"
        "        while time.monotonic() - t < 0.3:\n"
        "            pass\n"
        "try:\n"
        "    with time_limit(0.1):\n"
        "        Slow()  # collected at once: its finalizer runs past the budget\n"
        "        while True:\n"
        "            pass\n"
        "except Timeout as exc:\n"
        "    print('raised:', exc)\n")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout.strip() == "raised: time budget of 0.1 s ran out"
    assert "Exception ignored" not in proc.stderr and proc.returncode == 0
