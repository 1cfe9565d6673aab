"""recover: put a stack back in working order after `pulumi up` was killed (crash, kill -9, CI
timeout), and say what was done.

    tools/recover dev            # or: make recover STACK=dev

A killed update leaves the stack locked ("the stack is currently locked by 1 lock(s)") and its
in-flight steps as *pending operations*; Pulumi refuses the next `up` until they are resolved,
and `pulumi refresh` cannot resolve them for a stack that renders to a directory. This:

1. refuses if the update that holds the lock is still running on this machine;
2. removes the lock (`pulumi cancel`);
3. exports the state, keeps a copy in .pulumi-state/recovered/ (under the current directory, the
   project's gitignored state directory when run from the project), drops the pending operations
   and imports the result (`pulumi stack export` / `stack import`);
4. prints each dropped operation and what it means for the next `up`.

A dropped pending *create* means the engine does not know whether the object was made. For a
render stack the next `up` writes the file again. On a cluster the object may exist: the next
`up` then fails with "already exists"; delete it or adopt it (`pulumi import`) first.

Runs the CLI through tools/pulumi (same backend and passphrase variables).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from tools import project
from tools.project import PROJECT, ROOT


class RecoverError(Exception):
    pass


def say(message: str) -> None:
    print(f"recover: {message}", flush=True)


def backend_dir() -> Path | None:
    """The directory of a file:// backend (tools/pulumi's default included); None for others."""
    url = os.environ.get("PULUMI_BACKEND_URL") or (ROOT / ".pulumi-state").as_uri()
    parsed = urlparse(url)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else None


@dataclass(frozen=True)
class Lock:
    path: Path
    pid: int
    hostname: str
    who: str
    since: str

    def running_here(self) -> bool:
        if self.hostname != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def locks(stack: str) -> list[Lock]:
    """The lock files of a file backend's stack (`.pulumi/locks/<org>/<project>/<stack>/`)."""
    root = backend_dir()
    if root is None:
        return []
    found = []
    for path in sorted((root / ".pulumi" / "locks").glob(f"*/{PROJECT}/{stack}/*.json")):
        try:
            content = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        found.append(
            Lock(
                path,
                int(content.get("pid", 0)),
                str(content.get("hostname", "")),
                str(content.get("username", "?")),
                str(content.get("timestamp", "?")),
            )
        )
    return found


def repair_interrupted_write(stack: str) -> None:
    """A kill while the file backend saves a checkpoint can leave its metadata sidecar
    (`<stack>.json.attrs`) empty, and then every command fails with `failed to load checkpoint:
    EOF` although the checkpoint itself is whole. The sidecar only holds the content type, and
    the backend reads a missing one as none; the write's temporary file is never read."""
    root = backend_dir()
    if root is None:
        return
    for path in sorted((root / ".pulumi" / "stacks" / PROJECT).glob(f"{stack}.json*")):
        if path.name.endswith(".tmp"):
            path.unlink()
            say(f"removed {path.name}, the temporary file of a checkpoint write the crash cut off")
        elif path.name.endswith(".attrs") and not _is_json(path):
            path.unlink()
            say(f"removed {path.name}, the checkpoint's metadata file the crash left unreadable")


def _is_json(path: Path) -> bool:
    try:
        json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return True


def unlock(stack: str) -> None:
    held = locks(stack)
    live = [lock for lock in held if lock.running_here()]
    if live:
        lock = live[0]
        raise RecoverError(
            f"{stack} is locked by an update that is still running (pid {lock.pid}, "
            f"{lock.who}, since {lock.since}); wait for it, or stop it (kill {lock.pid}), "
            "then run recover again"
        )
    cancelled = project.pulumi("cancel", "--yes", "--stack", stack)
    if cancelled.returncode != 0:
        raise RecoverError(f"pulumi cancel failed:\n{cancelled.stderr.strip()}")
    if held:
        for lock in held:
            say(f"removed the lock left by pid {lock.pid} ({lock.who}, since {lock.since})")
    else:
        say(f"{stack} was not locked (or its backend keeps locks elsewhere: cancelled anyway)")


def describe(operation: Mapping[str, Any]) -> str:
    resource = operation.get("resource") or {}
    urn = str(resource.get("urn", "?"))
    kind = str(operation.get("type", "?"))
    name = urn.rsplit("::", 1)[-1]
    rtype = urn.split("::")[2].rsplit("$", 1)[-1] if urn.count("::") >= 3 else "?"
    advice = {
        "creating": "may or may not exist: a render stack's next up writes it again; on a "
        "cluster, delete it or `pulumi import` it if it exists",
        "updating": "kept as last recorded; the next up compares and updates it again",
        "deleting": "kept as last recorded; the next up deletes it again if the program "
        "no longer has it",
        "reading": "read again on the next up",
        "importing": "not imported; import it again if wanted",
    }.get(kind, "the next up decides again")
    return f"{kind:<9} {rtype} {name}: {advice}"


def drop_pending(stack: str) -> None:
    exported = project.pulumi("stack", "export", "--stack", stack)
    if exported.returncode != 0:
        raise RecoverError(f"pulumi stack export failed:\n{exported.stderr.strip()}")
    state: dict[str, Any] = json.loads(exported.stdout)
    deployment = state.get("deployment") or {}
    pending = deployment.get("pending_operations") or []
    if not pending:
        say(f"{stack} has no pending operations")
        return
    saved = Path.cwd() / ".pulumi-state" / "recovered"
    saved.mkdir(parents=True, exist_ok=True)
    backup = saved / f"{stack}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    backup.write_text(exported.stdout)
    deployment["pending_operations"] = []
    fixed = saved / f".{stack}-import.json"
    fixed.write_text(json.dumps(state))
    try:
        imported = project.pulumi("stack", "import", "--stack", stack, "--file", str(fixed))
    finally:
        fixed.unlink()
    if imported.returncode != 0:
        raise RecoverError(
            f"pulumi stack import failed (the state is unchanged; a copy is in {backup}):\n"
            f"{imported.stderr.strip()}"
        )
    say(f"dropped {len(pending)} pending operation(s) left by the crash:")
    for operation in pending:
        print(f"  {describe(operation)}", flush=True)
    say(f"the state before recovery is kept in {backup}")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: tools/recover STACK   (see tools/runner/recover.py)", file=sys.stderr)
        return 2
    stack = args[0]
    try:
        repair_interrupted_write(stack)
        unlock(stack)
        drop_pending(stack)
    except RecoverError as exc:
        say(str(exc))
        return 1
    say(f"{stack} is unlocked and has no pending operations; next: make preview STACK={stack}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
