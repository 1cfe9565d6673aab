"""stacks: what each environment is, and the one way `make` runs Pulumi on it.

    tools/stacks facts prod                 # {"stack": "prod", "production": true, ...}
    tools/stacks github-output              # all=/staged=/production= lists for the workflow
                                            # (local stacks left out)
    tools/stacks run preview prod           # what `make preview STACK=prod` does
    tools/stacks run up prod --cluster yes  # what `make up STACK=prod CLUSTER=yes` does

Two facts come from a stack file (stacks/Pulumi.<stack>.yaml), read the way Pulumi reads it:

- production: `aio-mq:production`. Fail safe: a stack is production unless it says `false`; any
  value but `true`/`false` is refused. The program, the policy pack (policy/guardrails.py) and the
  workflow's approval gate read the same key.
- target: `aio-mq:azure` makes an *ARM stack* (prod-arm): its objects are Azure resources.
  `make render` writes its ARM template offline (a disposable copy); `preview`, `up` and
  `destroy` need the azure-native provider plugin, which Pulumi downloads from the internet:
  without it they say so in one line before the engine runs; `up`/`destroy` need CLUSTER=yes.
  `aio-mq:kubernetes.renderYamlToDirectory` makes a *render stack* (dev): its state only
  describes files, so it is updated in place. Any other stack is a *cluster stack*; one whose
  kubeconfig is the project's local cluster's (.local-cluster/kubeconfig: local, local-ga) is a
  *local stack*: `make` starts that throwaway cluster and acts on it without being asked, and
  the workflow leaves it out (it exists on a developer's machine only).

Offline work never touches a cluster stack's state. `preview`/`policy-preview`/`render` of a
cluster stack run on a disposable stack in a temporary backend (diffed against nothing) and render
into rendered/<stack>; `up`/`destroy` of a cluster stack refuse unless CLUSTER=yes asks for the
real thing. `up` and `preview` of a production stack run the guardrails policy pack.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components import stack_file as reader
from tools import project
from tools.project import LOCAL_CLUSTER, PROJECT, ROOT, stack_file, stack_names

PRODUCTION_KEY = f"{PROJECT}:production"
KUBERNETES_KEY = f"{PROJECT}:kubernetes"
AZURE_KEY = f"{PROJECT}:azure"
AZURE_NATIVE_PIN = "pulumi-azure-native=="
DISPOSABLE_ENV = "AIO_MQ_DISPOSABLE_STATE"
"""Set for a backend that is thrown away after the run; tools/pulumi lets render-mode updates
happen only there."""
RENDER_ENV = "AIO_MQ_RENDER_YAML_TO_DIRECTORY"
LOCAL_KUBECONFIG = ".local-cluster/kubeconfig"
"""The kubeconfig `tools/local-cluster up` writes (relative to the project)."""
COMMANDS = ("up", "preview", "policy-preview", "render", "destroy")


class StackFileError(Exception):
    """A stack file that cannot say what its stack is; the message says what to change."""


@dataclass(frozen=True)
class StackFacts:
    stack: str
    production: bool
    render_dir: str | None
    """renderYamlToDirectory of a render stack; None for a cluster stack."""
    context: str | None
    kubeconfig: str | None = None
    azure: bool = False
    """An ARM stack: aio-mq:azure names an IoT Operations instance."""

    @property
    def cluster(self) -> bool:
        return self.render_dir is None

    @property
    def local(self) -> bool:
        """Whether its cluster is the project's local one (tools/local-cluster)."""
        return self.cluster and self.kubeconfig == LOCAL_KUBECONFIG

    def as_json(self) -> dict[str, Any]:
        target = (
            "azure"
            if self.azure
            else "local"
            if self.local
            else "cluster"
            if self.cluster
            else "render"
        )
        return {
            "stack": self.stack,
            "production": self.production,
            "target": target,
            "renderYamlToDirectory": self.render_dir,
            "context": self.context,
        }


def facts(root: Path, stack: str) -> StackFacts:
    path = stack_file(root, stack)
    if not path.exists():
        known = ", ".join(stack_names(root)) or "none"
        raise StackFileError(f"there is no stack file {path.relative_to(root)} (stacks: {known})")
    # Read as the program reads it (components/stack_file.py): a value the Pulumi CLI wrote
    # back, `"false"`, is the same false; `no` (a string in YAML 1.2, as for Pulumi) is not.
    try:
        config = reader.project_config(reader.load(path.read_text()))
    except reader.StackFileError as exc:
        raise StackFileError(f"{path.relative_to(root)}: {exc}") from None
    declared = config.get(PRODUCTION_KEY.removeprefix(f"{PROJECT}:"), True)
    if not isinstance(declared, bool):
        raise StackFileError(
            f"{path.relative_to(root)}: {PRODUCTION_KEY} is {declared!r}; set it to true or false"
        )
    production = declared
    kubernetes = config.get(KUBERNETES_KEY.removeprefix(f"{PROJECT}:"))
    kubernetes = kubernetes if isinstance(kubernetes, dict) else {}
    render_dir = kubernetes.get("renderYamlToDirectory") or None
    return StackFacts(
        stack,
        production,
        render_dir,
        kubernetes.get("context") or None,
        kubernetes.get("kubeconfig") or None,
        azure=AZURE_KEY.removeprefix(f"{PROJECT}:") in config,
    )


def github_output(root: Path) -> str:
    """The stack lists the workflow's jobs run over: production ones wait for approval. Local
    stacks are left out: their cluster runs on a developer's machine."""
    all_facts = [f for f in (facts(root, name) for name in stack_names(root)) if not f.local]
    production = [f.stack for f in all_facts if f.production]
    staged = [f.stack for f in all_facts if not f.production]
    names = [f.stack for f in all_facts]
    return (
        f"all={json.dumps(names)}\n"
        f"staged={json.dumps(staged)}\n"
        f"production={json.dumps(production)}\n"
    )


# --- running -------------------------------------------------------------------------------


def say(message: str) -> None:
    print(f"stacks: {message}", file=sys.stderr, flush=True)


def pulumi(root: Path, *args: str, env: dict[str, str] | None = None) -> int:
    """tools/pulumi on the user's terminal: they watch the engine work."""
    return project.pulumi(*args, cwd=root, env=env, capture=False).returncode


def policy_args(root: Path, command: str, stack: StackFacts) -> list[str]:
    if command == "policy-preview" or (stack.production and command in ("up", "preview", "render")):
        project.ensure_policy_venv(root)
        return ["--policy-pack", "policy"]
    return []


ENGINE_COMMAND = {
    "up": ["up", "--yes"],
    "preview": ["preview", "--diff"],
    "policy-preview": ["preview", "--diff"],
    "render": ["up", "--yes"],
    "destroy": ["destroy", "--yes"],
}


def azure_native_missing(root: Path, command: str, stack: StackFacts) -> str | None:
    """Why `command` cannot run on an ARM stack here: the azure-native provider plugin of the
    pinned SDK is not in the plugin cache (tools/pulumi ignores plugins on $PATH). The engine
    would fail on it with a plugin-download error; None when it is there."""
    pins = (root / "requirements.txt").read_text().splitlines()
    version = next(
        line[len(AZURE_NATIVE_PIN) :] for line in pins if line.startswith(AZURE_NATIVE_PIN)
    )
    home = Path(os.environ.get("PULUMI_HOME") or Path.home() / ".pulumi")
    plugin = home / "plugins" / f"resource-azure-native-v{version}" / "pulumi-resource-azure-native"
    if os.access(plugin, os.X_OK):
        return None
    return (
        f"{stack.stack} is an ARM stack ({AZURE_KEY}): `make {command}` needs the Pulumi "
        f"azure-native provider plugin {version}, which is not installed here (Pulumi downloads "
        f"it from the internet: tools/pulumi plugin install resource azure-native {version}); "
        f"`make render STACK={stack.stack}` writes its ARM template offline"
    )


def refusal(command: str, stack: StackFacts) -> str:
    target = f"kubeconfig context {stack.context}" if stack.context else "its kubeconfig"
    real = "deploy it to its cluster:" if command == "up" else "remove it from its cluster:"
    kind = "a cluster stack"
    if stack.azure:
        kind, target = "an ARM stack", AZURE_KEY
        real = f"{'deploy it' if command == 'up' else 'remove it'} in Azure:"
    return (
        f"{stack.stack} is {kind} ({target}): `make {command}` changes it only when "
        "asked to, so nothing was done.\n"
        f"  {real:<32} make {command} STACK={stack.stack} CLUSTER=yes\n"
        f"  {'render its manifests offline:':<32} make render STACK={stack.stack}"
        f"   (into rendered/{stack.stack}/, on a disposable copy)\n"
        f"  {'see what it would create:':<32} make preview STACK={stack.stack}"
    )


def run(root: Path, command: str, stack_name: str, cluster: bool, extra: Sequence[str] = ()) -> int:
    stack = facts(root, stack_name)
    engine = [*ENGINE_COMMAND[command], *extra]
    if stack.azure and command != "render":
        missing = azure_native_missing(root, command, stack)
        if missing:
            say(missing)
            return 2
    # Reading Azure is read-only: an ARM stack previews against its own state.
    cluster = cluster or (stack.azure and command in ("preview", "policy-preview"))
    if stack.local and command != "render":
        # A throwaway API server on this machine, acted on without asking: started (or reused).
        # What a fresh Azure IoT Operations install has is created with the cluster only, never
        # over what exists, so a read-only command (preview) writes nothing to it. `up` first
        # reads back what it holds, so drift is put back.
        say(f"{stack.stack} is a local stack: starting (or reusing) tools/local-cluster")
        started = subprocess.run(
            [str(LOCAL_CLUSTER), "up", "--aio-defaults"],
            stdout=subprocess.DEVNULL,
            check=False,
        )
        if started.returncode != 0:
            return started.returncode
        cluster = True
        if engine[0] == "up":
            engine.append("--refresh")
    if stack.cluster and not cluster:
        if command in ("up", "destroy"):
            say(refusal(command, stack))
            return 2
        return run_disposable(root, command, stack, extra)
    if command == "render" and stack.cluster:
        say(f"render writes files only; {stack.stack} with CLUSTER=yes is `make up`")
        return 2
    packs = policy_args(root, command, stack)
    if stack.production and packs:
        say(f"{stack.stack} is production ({PRODUCTION_KEY}): running the guardrails policy pack")
    if stack.cluster:
        where = f"Azure ({AZURE_KEY})" if stack.azure else "the cluster (CLUSTER=yes)"
        say(f"{stack.stack}: {command} against {where}")
    status = pulumi(root, "stack", "select", stack.stack, "--create", "--non-interactive")
    if status != 0:
        return status
    status = pulumi(root, *engine, "--stack", stack.stack, *packs)
    if status == 0 and engine[0] == "up":
        status = show_outputs(root, stack.stack)
    return status


def show_outputs(root: Path, stack_name: str) -> int:
    """After `up`: the stack's outputs as JSON, then where clients connect."""
    shown = project.pulumi("stack", "output", "--stack", stack_name, "--json", cwd=root)
    sys.stdout.write(shown.stdout)
    sys.stderr.write(shown.stderr)
    if shown.returncode == 0:
        print(endpoints_table(json.loads(shown.stdout or "{}")), end="", flush=True)
    return shown.returncode


def endpoints_table(outputs: dict[str, Any]) -> str:
    """Where clients connect, one line per way in, from the `endpoints` output of a GA stack
    (components/v1/endpoints.py); empty for a stack without it."""
    endpoints = outputs.get("endpoints")
    if not isinstance(endpoints, dict) or not endpoints:
        return ""
    rows = [("LISTENER", "KEY", "URL", "AUTHENTICATION", "CA")]
    for name, listener in endpoints.items():
        for port in listener["ports"]:
            auth = port.get("authentication")
            methods = ", ".join(auth["methods"]) if auth else ""
            authentication = f"{auth['ref']} ({methods or '?'})" if auth else "none"
            ca = port.get("ca")
            where = (
                f"{ca['kind']} {ca['namespace']}/{ca['name']} [{ca['key']}]"
                if ca
                else ("-" if not port["tls"] else "unknown (issuer not created by aio-mq)")
            )
            rows += [
                (name, listener["keyPath"], url["url"], authentication, where)
                for url in port["urls"]
            ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = ["", "Where clients connect (pulumi stack output endpoints):"]
    lines += [
        "  " + "  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    ]
    return "\n".join(lines) + "\n"


def run_disposable(root: Path, command: str, stack: StackFacts, extra: Sequence[str]) -> int:
    """Run on a throwaway stack in a temporary backend, rendering into rendered/<stack>."""
    rendered = root / "rendered" / stack.stack
    if command == "render":
        shutil.rmtree(rendered, ignore_errors=True)  # exactly this stack's manifests
    packs = policy_args(root, command, stack)
    with tempfile.TemporaryDirectory(prefix=f"aio-mq-{stack.stack}-offline-") as scratch:
        env = dict(os.environ)
        env.update(
            {
                "PULUMI_BACKEND_URL": Path(scratch).as_uri(),
                RENDER_ENV: str(rendered),
                DISPOSABLE_ENV: "1",
            }
        )
        say(
            f"{stack.stack} is a cluster stack: {command} runs offline on a disposable copy "
            f"(a temporary backend, diffed against nothing, manifests into rendered/{stack.stack}/"
            f"); {stack.stack}'s own state is not read or written"
        )
        status = pulumi(
            root, "stack", "init", stack.stack, "--no-select", "--non-interactive", env=env
        )
        if status == 0:
            engine = [*ENGINE_COMMAND[command], *extra]
            status = pulumi(root, *engine, "--stack", stack.stack, *packs, env=env)
    if command != "render" and status == 0:
        say(f"to compare with the cluster: make preview STACK={stack.stack} CLUSTER=yes")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/stacks", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    facts_parser = sub.add_parser("facts", help="what a stack is, as JSON")
    facts_parser.add_argument("stack")
    sub.add_parser("github-output", help="the workflow's stack lists")
    run_parser = sub.add_parser("run", help="run a make target on a stack")
    run_parser.add_argument("command", choices=COMMANDS)
    run_parser.add_argument("stack")
    run_parser.add_argument(
        "--cluster", default="", help="'yes' to act on a cluster stack's cluster and state"
    )
    run_parser.add_argument("extra", nargs="*", help="more arguments for the engine (after --)")
    args = parser.parse_args(argv)
    try:
        if args.what == "facts":
            print(json.dumps(facts(ROOT, args.stack).as_json()))
            return 0
        if args.what == "github-output":
            sys.stdout.write(github_output(ROOT))
            return 0
        if args.cluster not in ("", "yes"):
            say(f"CLUSTER={args.cluster!r}: say CLUSTER=yes to act on the cluster, or leave it out")
            return 2
        return run(ROOT, args.command, args.stack, args.cluster == "yes", args.extra)
    except StackFileError as exc:
        say(str(exc))
        return 2


if __name__ == "__main__":
    sys.exit(main())
