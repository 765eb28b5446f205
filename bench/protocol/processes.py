"""Child processes that never outlive their parent, and stop signals read as an interruption.

A benchmark run starts one fresh process per workload run and per probes section. Two things must
hold whatever happens to the parent:

- **A child dies with its parent.** Each child gets the read end of a pipe (the "lifeline") whose
  write end only the parent holds. When the parent exits for any reason, SIGKILL included, the
  operating system closes the write end; a thread in the child sees end-of-file and ends the
  child at once. This works on Linux and macOS alike (Linux's ``PR_SET_PDEATHSIG`` has no macOS
  twin), and costs one blocked thread.
- **One way to run a worker.** `run_worker` starts it holding a lifeline, waits (calling back at
  intervals, or up to a time limit), stops it on an interruption and propagates that; the
  training runner and the probes both use it, so the rules cannot drift between them.
- **SIGTERM and SIGHUP stop a run the way Ctrl-C does.** ``timeout``, CI cancellation, ``kill``
  and nox (SIGTERM 0.3 s after forwarding Ctrl-C, by default) send them; `stop_signals` turns
  them into `KeyboardInterrupt` so the code that keeps finished measurements on Ctrl-C runs for
  them too. `shielded` holds further stop signals back while those measurements are written.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import FrameType
from typing import Any, Self

LIFELINE_ENV = "BENCHBOOK_LIFELINE_FD"
"""Environment variable naming the file descriptor of a child's lifeline."""

STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))
"""Signals, besides SIGINT, that mean "stop and keep what was measured" (Windows has no SIGHUP)."""

STOP_GRACE_S = 5.0
"""How long a child asked to stop may take before it is killed. Its partial work is dropped
anyway, so this only lets TensorFlow release its threads and files."""


class Stopped(KeyboardInterrupt):
    """A stop signal other than SIGINT arrived; ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_status(exc: BaseException) -> int:
    """The conventional exit status for an interruption: 128 + the signal's number."""
    signum = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
    return 128 + int(signum)


Handler = Callable[[int, FrameType | None], Any] | int


@contextlib.contextmanager
def handling(signals: Iterable[int], handler: Handler) -> Iterator[None]:
    """Inside the block, ``signals`` go to ``handler`` (a function, or `signal.SIG_IGN`); after
    it, to what they went to before.

    Only the main thread of the main interpreter can set handlers; elsewhere (a test running the
    harness in a thread) the block leaves the signals as they were.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, handler) for s in signals}
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """Inside the block, SIGINT raises `KeyboardInterrupt` and SIGTERM and SIGHUP raise
    `Stopped` (a `KeyboardInterrupt`), the first one only: a signal that arrives while the
    first is being handled is noted and dropped, so the first decides the exit status.

    Python runs every pending handler at its next check, in signal-number order: a Ctrl-C and
    nox's SIGTERM 0.3 s later that both arrive while the process waits for the CPU would
    otherwise raise twice, the second inside the first one's ``except`` block, and the run would
    end as SIGTERM (143) instead of Ctrl-C (130).
    """
    raised: list[int] = []

    def first_only(signum: int, frame: FrameType | None) -> None:
        if raised:
            return
        raised.append(signum)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Stopped(signum)

    with handling((signal.SIGINT, *STOP_SIGNALS), first_only):
        yield


@contextlib.contextmanager
def blocked(signals: Iterable[int]) -> Iterator[None]:
    """Inside the block, ``signals`` wait (blocked) instead of arriving; they arrive at its end.

    Children started inside inherit the block (across exec too), so a Ctrl-C sent to the whole
    process group while they start reaches only the parent, and never gets lost: unlike an
    ignored signal, a blocked one is kept pending until the block ends.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, set(signals))
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def shielded() -> Iterator[list[int]]:
    """Inside the block, SIGINT, SIGTERM and SIGHUP are noted, not acted on.

    For writing what was measured after an interruption: a second Ctrl-C (or nox's SIGTERM after
    the first) must not break the write half-way. Yields the list of signals that arrived.
    """
    arrived: list[int] = []

    def note(signum: int, frame: FrameType | None) -> None:
        arrived.append(signum)

    with handling((signal.SIGINT, *STOP_SIGNALS), note):
        yield arrived


class Lifeline:
    """The parent's end of one child's lifeline: pass `env` and `pass_fds` to the child's start.

    Use as a context manager around the child's whole life; leaving it closes both ends.
    """

    def __init__(self) -> None:
        self._read, self._write = os.pipe()  # not inherited by other children (PEP 446)

    @property
    def pass_fds(self) -> tuple[int, ...]:
        """The descriptors the child must inherit."""
        return (self._read,)

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: this process's environment) plus the lifeline's descriptor."""
        env = dict(os.environ if base is None else base)
        env[LIFELINE_ENV] = str(self._read)
        return env

    def close(self) -> None:
        """Close both ends (the child, if still running, then stops)."""
        for fd in (self._read, self._write):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start(command: Sequence[str], lifeline: Lifeline, **kwargs: Any) -> subprocess.Popen[Any]:
    """`subprocess.Popen` of ``command`` holding ``lifeline``."""
    env = lifeline.env(kwargs.pop("env", None))
    return subprocess.Popen(command, env=env, pass_fds=lifeline.pass_fds, **kwargs)


def stop(process: subprocess.Popen[Any], grace_s: float = STOP_GRACE_S) -> None:
    """Ask ``process`` to stop (SIGTERM), kill it after ``grace_s``; return once it is gone."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _watch(fd: int) -> None:
    with contextlib.suppress(OSError):
        while os.read(fd, 1):
            pass
    # End of file: the parent is gone. os._exit, not sys.exit: TensorFlow's threads would keep a
    # normal shutdown waiting, and nothing this process holds is worth keeping without a parent.
    os._exit(1)


def hold_lifeline() -> None:
    """In a child: end this process as soon as the parent that started it is gone.

    Does nothing when the process was not started with a lifeline (run by hand, in a test).
    """
    value = os.environ.pop(LIFELINE_ENV, None)
    if value is None:
        return
    try:
        fd = int(value)
        os.fstat(fd)
    except (ValueError, OSError):
        print(f"ignoring {LIFELINE_ENV}={value!r}: not an open descriptor", file=sys.stderr)
        return
    threading.Thread(target=_watch, args=(fd,), name="benchbook-lifeline", daemon=True).start()


def run_worker(
    command: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    timeout_s: float | None = None,
    capture: bool = False,
    tick_s: float | None = None,
    on_tick: Callable[[], None] | None = None,
) -> tuple[int, str]:
    """Run a worker process to its end; return its exit status and, with ``capture``, its
    stderr (decoded, undecodable bytes replaced).

    The worker holds a `Lifeline`, reads no standard input, and writes its standard error to the
    terminal unless ``capture`` (then its standard output is discarded). ``on_tick`` is called
    every ``tick_s`` seconds while it runs. On an interruption (Ctrl-C, SIGTERM, SIGHUP) the
    worker is stopped, further stop signals held back meanwhile, and the interruption
    propagates.

    Raises
    ------
    subprocess.TimeoutExpired
        After ``timeout_s`` seconds; the worker is stopped first.
    OSError
        When the worker cannot be started.
    """
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    with contextlib.ExitStack() as stack:
        lifeline = stack.enter_context(Lifeline())
        err = stack.enter_context(tempfile.TemporaryFile()) if capture else None
        process = start(
            command,
            lifeline,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL if capture else None,
            stderr=err,
        )
        try:
            while True:
                wait_s = tick_s
                if deadline is not None:
                    left = max(0.0, deadline - time.monotonic())
                    wait_s = left if wait_s is None else min(wait_s, left)
                try:
                    code = process.wait(timeout=wait_s)
                    break
                except subprocess.TimeoutExpired:
                    if deadline is not None and time.monotonic() >= deadline:
                        stop(process)
                        raise subprocess.TimeoutExpired(list(command), timeout_s or 0.0) from None
                    if on_tick is not None:
                        on_tick()
        except KeyboardInterrupt:
            with shielded():  # nox's SIGTERM 0.3 s after Ctrl-C must not cut this short
                stop(process)
            raise
        text = ""
        if err is not None:
            err.seek(0)
            text = err.read().decode("utf-8", errors="replace")
    return code, text
