"""Tests for bench/protocol/processes.py: children that die with their parent, stop signals as Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from bench.protocol import processes

ROOT = Path(__file__).resolve().parents[1]

# A parent that starts a child holding a lifeline, prints the child's pid, then waits forever.
PARENT = textwrap.dedent(
    """
    import sys, time
    from bench.protocol import processes
    child = [sys.executable, "-c",
             "from bench.protocol import processes; processes.hold_lifeline(); import time; time.sleep(120)"]
    lifeline = processes.Lifeline()
    process = processes.start(child, lifeline)
    print(process.pid, flush=True)
    time.sleep(120)
    """
)


def _gone(pid: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_child_never_outlives_its_parent(sig: signal.Signals) -> None:
    """Killing the parent alone (SIGKILL or SIGTERM) ends its child within a second."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with subprocess.Popen(
        [sys.executable, "-c", PARENT], env=env, stdout=subprocess.PIPE, text=True
    ) as parent:
        try:
            assert parent.stdout is not None
            child = int(parent.stdout.readline())
            assert psutil.pid_exists(child)
            parent.send_signal(sig)
            parent.wait(timeout=10)
            assert _gone(child, within_s=2.0), "the child kept running without its parent"
        finally:
            parent.kill()


def test_a_child_without_a_lifeline_runs_normally() -> None:
    """`hold_lifeline` does nothing in a process started by hand."""
    env = {k: v for k, v in os.environ.items() if k != processes.LIFELINE_ENV}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from bench.protocol import processes; processes.hold_lifeline(); print(7)",
        ],
        env=dict(env, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "7"


def test_stop_signals_raise_a_keyboard_interrupt_naming_the_signal() -> None:
    """SIGTERM inside `stop_signals` raises `Stopped`, a KeyboardInterrupt; exit status 143."""
    before = signal.getsignal(signal.SIGTERM)
    with processes.stop_signals(), pytest.raises(KeyboardInterrupt) as caught:  # noqa: PT012
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)  # the handler runs at the next bytecode; never reached
    assert isinstance(caught.value, processes.Stopped)
    assert processes.exit_status(caught.value) == 143
    assert processes.exit_status(KeyboardInterrupt()) == 130
    assert signal.getsignal(signal.SIGTERM) is before


def test_the_first_stop_signal_decides_when_two_arrive_at_once() -> None:
    """Ctrl-C and nox's SIGTERM both pending when Python next checks: KeyboardInterrupt (130)
    is raised and the SIGTERM is dropped, not raised inside its ``except`` block (143)."""
    with processes.stop_signals():
        caught = None
        try:
            with processes.blocked([signal.SIGINT, signal.SIGTERM]):
                # To this thread: a signal to the process may go to any other thread.
                signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
                signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGTERM)
                # Both are pending now; they arrive together as the block ends.
        except KeyboardInterrupt as exc:
            caught = exc
            for _ in range(1000):  # bytecodes at which a second handler would raise
                pass
    assert type(caught) is KeyboardInterrupt
    assert processes.exit_status(caught) == 130


def test_a_blocked_signal_waits_and_is_not_lost() -> None:
    """A Ctrl-C that arrives while children start (`blocked`) is raised when the block ends."""
    reached_end = False
    # The test's own handler: whatever an earlier test left for SIGINT does not matter here.
    with (  # noqa: PT012
        processes.handling([signal.SIGINT], signal.default_int_handler),
        pytest.raises(KeyboardInterrupt),
        processes.blocked([signal.SIGINT]),
    ):
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
        assert signal.SIGINT in signal.sigpending()
        reached_end = True
    assert reached_end
    assert signal.SIGINT not in signal.sigpending()


def test_shielded_notes_signals_instead_of_acting_on_them() -> None:
    """A second Ctrl-C or a SIGTERM while results are written is noted, not raised."""
    with processes.shielded() as arrived:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.2)
    assert arrived == [signal.SIGINT, signal.SIGTERM]


def test_stop_kills_a_child_that_ignores_sigterm() -> None:
    """A child that ignores SIGTERM is killed after the grace time."""
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "print(1, flush=True); time.sleep(60)"
            ),
        ],
        stdout=subprocess.PIPE,
    ) as child:
        assert child.stdout is not None
        child.stdout.readline()
        started = time.monotonic()
        processes.stop(child, grace_s=0.5)
        assert child.returncode == -signal.SIGKILL
        assert time.monotonic() - started < 5


def test_run_worker_returns_the_status_and_the_captured_stderr() -> None:
    """A captured worker's exit status and standard error come back; its stdout is discarded."""
    code, err = processes.run_worker(
        [sys.executable, "-c", "import sys; print('out'); sys.exit('the worker failed')"],
        capture=True,
    )
    assert code == 1
    assert err.strip() == "the worker failed"


def test_run_worker_stops_a_worker_past_its_time_limit() -> None:
    """Past ``timeout_s`` the worker is stopped and TimeoutExpired raised, in about that time."""
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        processes.run_worker([sys.executable, "-c", "import time; time.sleep(60)"], timeout_s=0.5)
    assert time.monotonic() - started < 10


def test_run_worker_calls_back_while_the_worker_runs() -> None:
    """``on_tick`` runs every ``tick_s`` seconds until the worker ends (the macOS sampling)."""
    ticks: list[float] = []
    code, _ = processes.run_worker(
        [sys.executable, "-c", "import time; time.sleep(1.0)"],
        tick_s=0.1,
        on_tick=lambda: ticks.append(time.monotonic()),
    )
    assert code == 0
    assert len(ticks) >= 3
