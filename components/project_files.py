"""Files named in the configuration, read relative to the project directory (where Pulumi.yaml
is) while the program runs.

A private key read from a file never enters the stack file, and the program wraps it as a
Pulumi secret at once, so it is encrypted in the state like a `--secret` config value. What
protects it on disk is the file's own permissions: a key file other users can read is refused,
as ssh refuses one.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pulumi

from .errors import Problem


def project_root() -> Path:
    """The project directory: the engine's root directory, or (under mocks) the working one."""
    root = Path(pulumi.get_root_directory() or ".")
    return root if (root / "Pulumi.yaml").is_file() else Path.cwd()


def read_project_file(name: str, path: str, *, secret: bool = False) -> tuple[str, list[Problem]]:
    """The text of file `name` (the value found at key path `path`), or problems saying why
    it cannot be used. A `secret` file must be readable by its owner only."""
    file = project_root() / name
    try:
        mode = file.stat().st_mode
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        return "", [
            Problem(
                path,
                f"cannot read {name!r} ({reason})",
                "give the path of a PEM file relative to the project directory "
                "(where Pulumi.yaml is)",
            )
        ]
    if secret and mode & (stat.S_IRWXG | stat.S_IRWXO):
        return "", [
            Problem(
                path,
                f"{name!r} can be read by other users (mode {stat.filemode(mode)})",
                f"chmod 600 {name}",
            )
        ]
    return text, []
