"""docs/architecture.md's table of layers is the import rule: a module imports its own layer and
the layers below it. Read from the table, so the document stays true."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMPONENTS = ROOT / "components"


def layers() -> dict[str, int]:
    """Module path under components/ → its row in the table (0: the top)."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    table = text.split("## Packages and what each may import", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "`" in line]
    placed: dict[str, int] = {}
    for row, line in enumerate(rows):
        for path in re.findall(r"`([\w/]+\.py)`", line.split("|")[2]):
            assert path not in placed, f"{path} is in two rows"
            placed[path] = row
    return placed


def modules() -> dict[str, Path]:
    """Dotted name (without `components.`) → file, the subpackages' docstring-only __init__ left out."""
    found = {}
    for file in COMPONENTS.rglob("*.py"):
        relative = file.relative_to(COMPONENTS)
        if file.name == "__init__.py" and relative.parent != Path():
            assert ast.parse(file.read_text()).body[1:] == [], f"{relative} holds code"
            continue
        found[str(relative)] = file
    return found


def imports(relative: str, file: Path, known: set[str]) -> set[str]:
    """The modules of components/ that `file` imports, as paths under components/."""
    package = Path(relative).parent
    found: set[str] = set()

    def module_of(name: Path) -> str | None:
        for candidate in (f"{name}.py", str(name / "__init__.py")):
            if candidate in known or candidate == "__init__.py":
                return candidate
        return None

    for node in ast.walk(ast.parse(file.read_text())):
        if isinstance(node, ast.ImportFrom):
            dotted = (node.module or "").split(".") if node.module else []
            if node.level == 0:
                if dotted[:1] != ["components"]:
                    continue
                base = Path(*dotted[1:])
            else:
                base = package
                for _ in range(node.level - 1):
                    base = base.parent
                base = base.joinpath(*dotted)
            for alias in node.names:
                # `from . import models`: a module; `from .models import X`: the module `base`.
                found.add(module_of(base / alias.name) or module_of(base) or str(base))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                dotted = alias.name.split(".")
                if dotted[0] == "components":
                    found.add(module_of(Path(*dotted[1:])) or alias.name)
    return found - {relative}


def test_every_module_has_a_row() -> None:
    assert sorted(modules()) == sorted(layers())


def test_imports_never_go_up_a_row() -> None:
    row = layers()
    found = modules()
    known = set(found)
    edges = {module: imports(module, file, known) for module, file in found.items()}
    assert {t for targets in edges.values() for t in targets} <= known, "an import not resolved"
    upward = [
        f"{module} ({row[module]}) imports {target} ({row[target]})"
        for module, targets in edges.items()
        for target in targets
        if row[target] < row[module]
    ]
    assert upward == []
