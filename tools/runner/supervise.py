"""supervise: run a command so that nothing it starts outlives the process that asked for it.

    supervise.py WATCHED_PID -- pulumi up ...

tools/pulumi runs the Pulumi CLI through this. The CLI starts its language host, the Python
program and the providers in process groups of their own, so killing tools/pulumi (even with
`kill -9`, which nothing can trap) used to leave them running. Here:

- this process is a child subreaper (prctl PR_SET_CHILD_SUBREAPER): whatever the command starts
  and then abandons is re-parented here, not to init, so the whole tree stays findable;
- it asks the kernel for SIGTERM when its parent (WATCHED_PID, tools/pulumi) dies
  (PR_SET_PDEATHSIG), and also notices a changed parent by polling;
- when tools/pulumi is gone, or this process gets SIGTERM/SIGHUP, the CLI gets SIGTERM and a few
  seconds to cancel cleanly (it finishes the steps in flight, records them and unlocks the
  stack); then every descendant left gets SIGTERM, then SIGKILL; the exit status is 128 + the
  signal;
- when the command ends, descendants it left behind get the same treatment, and its exit status
  is passed on.

SIGINT (Ctrl-C in a terminal) reaches the command from the terminal directly and is not doubled
here; an INT sent to tools/pulumi alone is passed on, so the CLI cancels gracefully.

Linux only (prctl, /proc); only the standard library, so any python3 runs it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
CLI_GRACE_SECONDS = 10.0
GRACE_SECONDS = 2.0
POLL_SECONDS = 0.2


def prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed")


def descendants(root: int) -> list[int]:
    """Every live process below `root`, parents before children."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: fields follow the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def reap() -> None:
    """Collect exited children (orphans re-parented here are our children too)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def take_down(child: subprocess.Popen[bytes] | None) -> None:
    """Stop the command, then everything below this process.

    The CLI first gets SIGTERM alone and `CLI_GRACE_SECONDS` to cancel: it lets the steps in
    flight finish and records them, releasing the stack's lock. Then every descendant left gets
    SIGTERM, and SIGKILL after `GRACE_SECONDS`.
    """
    if child is not None and child.poll() is None:
        child.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(CLI_GRACE_SECONDS)
    me = os.getpid()
    signal_all(descendants(me), signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < deadline:
        reap()
        if not descendants(me):
            return
        time.sleep(0.05)
    while left := descendants(me):
        signal_all(left, signal.SIGKILL)
        time.sleep(0.05)
        reap()


class StopSignalError(Exception):
    """Unwinds the wait loop when tools/pulumi is gone or a stopping signal came."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: supervise.py WATCHED_PID -- COMMAND [ARG...]", file=sys.stderr)
        return 2
    watched, command = int(argv[0]), argv[2:]

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise StopSignalError(signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    child: subprocess.Popen[bytes] | None = None

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        # From a terminal the whole foreground group, the CLI included, already has it.
        if child is not None and not in_terminal_foreground():
            child.send_signal(signal.SIGINT)

    signal.signal(signal.SIGINT, interrupt)
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    try:
        if os.getppid() != watched:  # the parent died before PR_SET_PDEATHSIG took effect
            raise StopSignalError(signal.SIGTERM)
        child = subprocess.Popen(command)
        while True:
            status = child.poll()
            if status is not None:
                take_down(None)
                return status if status >= 0 else 128 - status
            if os.getppid() != watched:
                raise StopSignalError(signal.SIGTERM)
            time.sleep(POLL_SECONDS)
    except StopSignalError as stopped:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        take_down(child)
        return 128 + stopped.signum


def in_terminal_foreground() -> bool:
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
