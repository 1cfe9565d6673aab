"""pr-comment: print, for each environment, the markdown of the pull-request preview comment.

The GitHub workflow (.github/workflows/pulumi.yml) posts one comment per stack with the preview
diff; this is the same for people without GitHub. It runs the real engine (tools/ensure-engine)
offline: the project is copied to a temporary directory, stacks live in a temporary file backend,
and manifests are rendered into a temporary directory (AIO_MQ_RENDER_YAML_TO_DIRECTORY), so no
cluster, no cloud backend and nothing in the working tree is touched.

    tools/pr-comment                      # every stack in stacks/, diff against nothing
    tools/pr-comment --base main          # diff against what `main` deploys (up, then preview)
    tools/pr-comment --stack prod --policy-pack
    tools/pr-comment --stack prod --from-json preview.json   # format a saved `preview --json`

Each comment holds a change summary (what `pulumi preview` counts per operation) and the diff,
rendered from `pulumi preview --json --diff`: per resource the operation and the input
properties it adds, changes or removes. Exit status: 0 when every preview succeeded, 1 when one
failed (its comment says so), 2 when the engine is not available.

Only the standard library is used, so any python3 runs it.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.project import (
    PROJECT,
    ROOT,
    EngineUnavailableError,
    copy_project,
    engine_bin,
    ensure_policy_venv,
    link_venvs,
    pulumi,
    scratch_env,
    stack_file,
    stack_names,
)

COMMAND_TIMEOUT = 600

SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

# Pulumi's symbol for each step operation, as its text display shows them.
OP_SYMBOLS = {
    "create": "+",
    "update": "~",
    "delete": "-",
    "replace": "+-",
    "create-replacement": "++",
    "delete-replaced": "--",
    "read": ">",
    "read-replacement": ">>",
    "refresh": "~",
    "import": "=",
    "import-replacement": "=>",
    "discard": "-",
    "discard-replaced": "-",
    "remove-pending-replace": "~",
    "same": " ",
}
# How the change summary names each operation, in the order Pulumi lists them.
SUMMARY_WORDS = {
    "create": "to create",
    "update": "to update",
    "replace": "to replace",
    "delete": "to delete",
    "import": "to import",
    "read": "to read",
    "same": "unchanged",
}
# A replacement shows up as three steps; the `replace` one carries the diff.
HIDDEN_OPS = {"same", "create-replacement", "delete-replaced", "read-replacement"}
_SIMPLE_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


# --- formatting (pure) ---------------------------------------------------------------------


def format_value(value: Any) -> str:
    """A property value as Pulumi's diff shows it: JSON, with secrets and unknowns named."""
    if is_secret(value):
        return "[secret]"
    if value == UNKNOWN_VALUE:
        return "[unknown]"
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def is_secret(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get(SECRET_SIG_KEY) == SECRET_SIG_VALUE


def join_path(prefix: str, key: str | int) -> str:
    """Pulumi's property path syntax: a.b, a[0], a["odd.key"]."""
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    if _SIMPLE_KEY.match(key):
        return f"{prefix}.{key}" if prefix else key
    return f"{prefix}[{json.dumps(key)}]"


def leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf of a property value by its path; empty objects and lists are leaves."""
    if is_secret(value):
        return {prefix: value}
    if isinstance(value, Mapping) and value:
        found: dict[str, Any] = {}
        for key in sorted(value):
            if not str(key).startswith("__"):  # engine bookkeeping such as __internal
                found |= leaves(value[key], join_path(prefix, str(key)))
        return found
    if isinstance(value, list) and value:
        found = {}
        for i, item in enumerate(value):
            found |= leaves(item, join_path(prefix, i))
        return found
    return {prefix: value}


def _under(path: str, keys: Sequence[str]) -> bool:
    return any(path == k or path.startswith((k + ".", k + "[")) for k in keys)


@dataclass(frozen=True)
class Step:
    op: str
    urn: str
    old: Mapping[str, Any]
    """Inputs before the step (empty for a create)."""
    new: Mapping[str, Any]
    """Inputs after the step (empty for a delete)."""
    keys: tuple[str, ...] = ()
    """Properties the provider reports as changed (detailedDiff, else diffReasons)."""

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Step:
        old, new = raw.get("oldState") or {}, raw.get("newState") or {}
        detailed = raw.get("detailedDiff") or {}
        keys = tuple(detailed) or tuple(raw.get("diffReasons") or ())
        return cls(
            op=str(raw.get("op", "")),
            urn=str(raw.get("urn", "")),
            old=old.get("inputs") or {},
            new=new.get("inputs") or {},
            keys=keys,
        )

    @property
    def type(self) -> str:
        parts = self.urn.split("::")
        return parts[2].rsplit("$", 1)[-1] if len(parts) >= 4 else "?"

    @property
    def name(self) -> str:
        parts = self.urn.split("::")
        return parts[3] if len(parts) >= 4 else self.urn

    def lines(self) -> list[str]:
        """The diff lines of this step: a header, then one line per changed property."""
        symbol = OP_SYMBOLS.get(self.op, "?")
        out = [f"{symbol} {self.type}: {self.name} ({self.op})"]
        before, after = leaves(self.old), leaves(self.new)
        if self.op in ("create", "read", "import"):
            out += [f"+     {path}: {format_value(v)}" for path, v in after.items() if path]
        elif self.op in ("delete", "discard", "discard-replaced"):
            out += [f"-     {path}: {format_value(v)}" for path, v in before.items() if path]
        else:
            for path in sorted(before.keys() | after.keys()):
                if not path or (self.keys and not _under(path, self.keys)):
                    continue
                if path in before and path in after and before[path] == after[path]:
                    continue
                if path in before:
                    out.append(f"-     {path}: {format_value(before[path])}")
                if path in after:
                    out.append(f"+     {path}: {format_value(after[path])}")
        return out


def change_summary(counts: Mapping[str, int]) -> str:
    """ "6 to create, 1 unchanged", in Pulumi's order; "no changes" when nothing changes."""
    ordered = [op for op in SUMMARY_WORDS if counts.get(op)]
    ordered += sorted(op for op in counts if op not in SUMMARY_WORDS and counts[op])
    parts = [f"{counts[op]} {SUMMARY_WORDS.get(op, op)}" for op in ordered]
    if not any(op != "same" for op in ordered):
        parts.insert(0, "no changes")
    return ", ".join(parts)


@dataclass
class Preview:
    """The outcome of one `pulumi preview --json` (or a saved one)."""

    stack: str
    digest: Mapping[str, Any] = field(default_factory=dict)
    failed: bool = False
    error: str = ""
    """What the engine printed on stderr when the preview failed (or could not run)."""
    note: str = ""
    """One line saying what the diff is against."""
    policies: str = ""
    """The "Policies:" section of the text preview, when the policy pack ran."""


def render_comment(preview: Preview, command: str = "preview", project: str = PROJECT) -> str:
    """The markdown of one environment's pull-request comment."""
    digest = preview.digest
    counts = {str(k): int(v) for k, v in (digest.get("changeSummary") or {}).items()}
    steps = [Step.from_json(s) for s in digest.get("steps") or []]
    shown = [s for s in steps if s.op not in HIDDEN_OPS]
    out = [f"#### :tropical_drink: `{command}` on {project}/{preview.stack}", ""]
    if preview.failed:
        out += [f":x: **`pulumi {command}` failed**; the diff below is what it saw before.", ""]
    out += [f"**Changes:** {change_summary(counts)}", ""]
    if preview.note:
        out += [f"_{preview.note}_", ""]
    if counts:
        out += ["| operation | resources |", "| --- | ---: |"]
        out += [f"| {_op_label(op)} | {n} |" for op, n in _ordered(counts)]
        out.append("")
    diagnostics = [
        d for d in digest.get("diagnostics") or [] if d.get("severity") in ("warning", "error")
    ]
    if diagnostics:
        out += ["**Errors and warnings**", "", "```text"]
        for d in diagnostics:
            where = Step("", str(d.get("urn", "")), {}, {}).name if d.get("urn") else "stack"
            text = str(d.get("message", "")).rstrip()
            out.append(f"{d['severity']}: {where}: {text}")
        out += ["```", ""]
    if preview.policies:
        out += ["**Policies**", "", "```text", preview.policies.rstrip(), "```", ""]
    if preview.error:
        out += ["<details>", "<summary>engine output</summary>", "", "```text"]
        out += [preview.error.rstrip(), "```", "", "</details>", ""]
    out += ["<details>", "<summary>Pulumi report</summary>", "", "```diff"]
    if shown:
        for step in shown:
            out += step.lines()
    else:
        out.append("  (no resource changes)")
    out += ["```", "", "</details>"]
    return "\n".join(out) + "\n"


def _op_label(op: str) -> str:
    symbol = OP_SYMBOLS.get(op, "?").strip()
    return f"`{symbol}` {op}" if symbol else op


def _ordered(counts: Mapping[str, int]) -> Iterator[tuple[str, int]]:
    for op in SUMMARY_WORDS:
        if counts.get(op):
            yield op, counts[op]
    for op in sorted(counts):
        if op not in SUMMARY_WORDS and counts[op]:
            yield op, counts[op]


def policies_section(text: str) -> str:
    """The "Policies:" block of `pulumi preview` text output ("" if it has none)."""
    lines = text.splitlines()
    for start, line in enumerate(lines):
        if line.rstrip() == "Policies:":
            end = start + 1
            while end < len(lines) and (not lines[end] or lines[end][0].isspace()):
                end += 1
            return "\n".join(lines[start:end]).rstrip() + "\n"
    return ""


def render_document(previews: Sequence[Preview]) -> str:
    """Every environment's comment, one after the other."""
    return "\n---\n\n".join(render_comment(p) for p in previews)


# --- running the engine --------------------------------------------------------------------


def export_ref(root: Path, ref: str, dest: Path) -> None:
    """The files of git revision `ref` into dest, virtualenvs linked."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref], cwd=root, capture_output=True, check=False
    )
    if archive.returncode != 0:
        raise SystemExit(f"pr-comment: git archive {ref}: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    link_venvs(root, dest)


@dataclass
class Engine:
    """tools/pulumi (the offline CLI) with a private home, file backend and render directory."""

    bin_dir: Path
    scratch: Path

    def env(self, stack: str) -> dict[str, str]:
        return scratch_env(
            self.scratch,
            self.bin_dir,
            AIO_MQ_RENDER_YAML_TO_DIRECTORY=str(self.scratch / "rendered" / stack),
            # The scratch backend is thrown away: tools/pulumi may render-mode `up` into it.
            AIO_MQ_DISPOSABLE_STATE="1",
        )

    def run(self, cwd: Path, stack: str, *args: str) -> subprocess.CompletedProcess[str]:
        return pulumi(*args, cwd=cwd, env=self.env(stack), timeout=COMMAND_TIMEOUT)


def _salt(path: Path) -> str | None:
    if not path.exists():
        return None
    for line in path.read_text().splitlines():
        if line.startswith("encryptionsalt:"):
            return line
    return None


def ensure_stack(engine: Engine, project: Path, stack: str, *others: Path) -> None:
    """Create the stack in the backend if needed; give every copy the same encryption salt."""
    own_file = stack_file(project, stack)
    listed = engine.run(project, stack, "stack", "ls", "--json")
    known = listed.returncode == 0 and any(
        s.get("name") == stack for s in json.loads(listed.stdout)
    )
    if not known:
        created = engine.run(project, stack, "stack", "init", stack)
        if created.returncode != 0:
            raise RuntimeError(f"pulumi stack init {stack} failed:\n{created.stderr}")
    salt = _salt(own_file)
    for other in others:
        other_file = stack_file(other, stack)
        if salt and other_file.exists() and _salt(other_file) is None:
            other_file.write_text(f"{salt}\n{other_file.read_text()}")


def preview_stack(
    engine: Engine, head: Path, stack: str, base: Path | None, policy_pack: bool
) -> Preview:
    note = "Diff against an empty stack: every resource is new."
    if base is not None and stack_file(base, stack).exists():
        ensure_stack(engine, base, stack, head)
        up = engine.run(base, stack, "up", "--yes", "--skip-preview", "--stack", stack)
        if up.returncode != 0:
            return Preview(stack, failed=True, error=f"pulumi up of the base failed:\n{up.stderr}")
        note = "Diff against the base revision, deployed to a scratch backend."
    else:
        ensure_stack(engine, head, stack)
        if base is not None:
            note = "A new environment: the base revision has no such stack file."
    result = engine.run(head, stack, "preview", "--json", "--diff", "--stack", stack)
    # The render directory is a temporary path: name it, not the run's random one.
    stdout = result.stdout.replace(str(engine.scratch), "<scratch>")
    try:
        digest = json.loads(stdout) if stdout.strip() else {}
    except json.JSONDecodeError:
        digest = {}
    preview = Preview(stack, digest, result.returncode != 0, note=note)
    if preview.failed:
        preview.error = result.stderr
    if policy_pack:
        # `preview --json` leaves policy results out: the text preview has them.
        checked = engine.run(head, stack, "preview", "--stack", stack, "--policy-pack", "policy")
        preview.policies = policies_section(checked.stdout)
        if checked.returncode != 0:
            preview.failed = True
            if not preview.policies:
                preview.error += checked.stdout + checked.stderr
    return preview


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tools/pr-comment",
        description="Print the pull-request preview comment of each environment (markdown).",
    )
    parser.add_argument(
        "--stack", action="append", help="an environment (default: every stacks/ file)"
    )
    parser.add_argument("--base", metavar="REF", help="diff against what git REF deploys")
    parser.add_argument(
        "--policy-pack", action="store_true", help="run the guardrails pack (policy/) as CI does"
    )
    parser.add_argument(
        "--from-json",
        metavar="FILE",
        type=Path,
        help="format a saved `pulumi preview --json` instead of running the engine",
    )
    args = parser.parse_args(argv)
    stacks = args.stack or stack_names()

    if args.from_json is not None:
        if len(stacks) != 1:
            parser.error("--from-json needs exactly one --stack")
        digest = json.loads(args.from_json.read_text())
        sys.stdout.write(render_document([Preview(stacks[0], digest)]))
        return 0

    try:
        bin_dir = engine_bin()
    except EngineUnavailableError as exc:
        print(f"pr-comment: the Pulumi engine is not available: {exc}", file=sys.stderr)
        return 2
    if args.policy_pack:
        ensure_policy_venv()

    previews = []
    with tempfile.TemporaryDirectory(prefix="aio-mq-pr-comment-") as tmp:
        scratch = Path(tmp)
        head = scratch / "head"
        copy_project(ROOT, head)
        base = None
        if args.base:
            base = scratch / "base"
            export_ref(ROOT, args.base, base)
        engine = Engine(bin_dir, scratch)
        for stack in stacks:
            print(f"pr-comment: previewing {stack}", file=sys.stderr)
            previews.append(preview_stack(engine, head, stack, base, args.policy_pack))
    sys.stdout.write(render_document(previews))
    return 1 if any(p.failed for p in previews) else 0


if __name__ == "__main__":
    sys.exit(main())
