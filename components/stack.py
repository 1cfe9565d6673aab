"""The pipeline's entry: read the `aio-mq:*` stack configuration once, into the config model of the
API it names, check it, and hand it to that API's stack program.

`__main__.py` is `deploy(load_config())`. Everything is validated before the first resource is
created: the config keys (pydantic), what only the whole config can tell (issuer references;
the API's rules, `StackBase.problems`), what only the stack file can tell (private keys stored
in clear, secrets under the public passphrase; components/secrets_check.py); then the API's
program (components/v1beta1/stack.py, components/v1/stack.py) checks, in cluster mode, the
target cluster (components/preflight.py) and what already runs on it, then every listener. All
problems are raised as one `ConfigError`.

`aio-mq:apiVersion` selects the shape of every other key: the preview API
(`mq.iotoperations.azure.com/v1beta1`, the default, `StackConfig`) or GA
(`mqttbroker.iotoperations.azure.com/v1`, `StackConfigV1`). It is read here, once: nothing
after this module asks which API a stack is written for.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pulumi
from pulumi.runtime.config import CONFIG, get_config, get_config_env
from pydantic import ValidationError

from .arm.config import preview_api_problem
from .config import config_keys, discovers, issuer_problems
from .errors import ConfigError, Problem, problems_from_validation
from .secrets_check import (
    StackFile,
    loopback_cluster,
    private_keys_in_clear,
    public_passphrase,
)
from .stack_file import PROJECT, program_value, with_decrypted_values_typed
from .v1 import stack as ga
from .v1.config import StackConfigV1
from .v1.models import API_VERSION as V1
from .v1beta1 import stack as preview
from .v1beta1.config import StackConfig
from .v1beta1.models import API_VERSION as V1BETA1

AnyStack = StackConfig | StackConfigV1
Summaries = dict[str, pulumi.Input[dict[str, Any]]]
S = TypeVar("S", StackConfig, StackConfigV1)


@dataclass(frozen=True)
class Api(Generic[S]):
    """One API version aio-mq speaks: its config model and its stack program."""

    model: type[S]
    deploy: Callable[[S, pulumi.Resource | None], Summaries]


APIS: dict[str, Api[Any]] = {
    V1BETA1: Api(StackConfig, preview.deploy),
    V1: Api(StackConfigV1, ga.deploy),
}
"""The API versions aio-mq speaks; the first is the default."""
CONFIG_MODELS: dict[str, type[AnyStack]] = {version: api.model for version, api in APIS.items()}
"""The config model of each API version."""


def read_config_keys() -> dict[str, Any]:
    """The raw `aio-mq:*` values of the running stack, parsed as components/stack_file.py
    parses a stack file's (the engine passes every value as a string)."""
    raw: dict[str, Any] = {}
    # The SDK has no public way to list keys: the engine's are in CONFIG, older hosts' in env.
    for full_key in sorted({*CONFIG.get(), *get_config_env()}):
        project, _, key = full_key.partition(":")
        if project != PROJECT:
            continue
        value = get_config(full_key)
        raw[key] = value if value is None else program_value(key, value)
    return raw


def load_config(raw: dict[str, Any] | None = None, stack_file: StackFile | None = None) -> AnyStack:
    """Validate the stack configuration; raise one ConfigError with every problem found.

    Without arguments, the running stack's keys and its stack file (which tells which values
    are encrypted) are read."""
    if raw is None:
        raw, stack_file = read_config_keys(), StackFile.of_running_stack()
        if stack_file is not None:
            raw = with_decrypted_values_typed(raw, stack_file.encrypted_paths())
    stack_name = pulumi.get_stack()
    if not raw:
        # An empty or cut-short stack file would otherwise delete every listener on `up`.
        raise ConfigError([_no_configuration(stack_file, stack_name)])
    first = private_keys_in_clear(raw, stack_file, stack_name)
    if "listeners" not in raw:
        first.append(
            Problem(
                f"{PROJECT}:listeners",
                "required key is missing",
                f"list the listeners; to remove every listener, write {PROJECT}:listeners: []",
            )
        )

    def public_passphrase_on_a_cluster(stack: AnyStack) -> list[Problem]:
        target = stack.kubernetes
        if target.render_yaml_to_directory is not None:
            return []
        if loopback_cluster(target.kubeconfig, target.context):  # nothing leaves the machine
            return []
        return public_passphrase(stack_file, stack_name)

    return validate_config(raw, public_passphrase_on_a_cluster, first=first, discovery_follows=True)


def validate_config(
    raw: dict[str, Any],
    *checks: Callable[[AnyStack], list[Problem]],
    subject: str = "the configuration",
    first: list[Problem] | None = None,
    discovery_follows: bool = False,
    cluster_given: bool = False,
) -> AnyStack:
    """`raw` as the config model its `apiVersion` selects, checked as a whole (issuer
    references; under GA the listener rules and references) and by `checks`; one ConfigError
    with every problem found, after the `first` ones found on `raw`. The package's
    MqListenerSet shares this with the stack file.

    `discovery_follows`: the stack program, which on a cluster reads what exists there before
    it creates anything; the GA checks against existing objects then wait for that.
    `cluster_given`: a composition, whose Kubernetes provider is the cluster for an ARM
    target's issuers and TLS Secrets."""
    version = raw.get("apiVersion", V1BETA1)
    api = APIS.get(version) if isinstance(version, str) else None
    if api is None:
        problem = Problem(
            f"{PROJECT}:apiVersion",
            f"{version!r} is not an API version aio-mq speaks",
            f"use one of {', '.join(CONFIG_MODELS)} (default: {V1BETA1})",
        )
        raise ConfigError([*(first or []), problem], subject)
    model: type[AnyStack] = api.model
    known = config_keys(model)
    # Unknown keys are reported here, with the project prefix the stack file uses.
    problems = [
        preview_api_problem() if key == "azure" else _unknown_key(key, known)
        for key in raw
        if key not in known
    ] + (first or [])
    given = {k: v for k, v in raw.items() if k in known}
    try:
        stack = model.model_validate({"listeners": [], **given})
    except ValidationError as exc:
        raise ConfigError(problems + problems_from_validation(exc, model), subject) from None
    problems += issuer_problems(stack) + [p for check in checks for p in check(stack)]
    problems += stack.problems(
        live=discovery_follows and discovers(stack), cluster_given=cluster_given
    )
    if problems:
        raise ConfigError(problems, subject)
    return stack


def _no_configuration(stack_file: StackFile | None, stack: str) -> Problem:
    where = str(stack_file.path) if stack_file else f"stacks/Pulumi.{stack}.yaml"
    return Problem(
        "",
        f"the stack file sets no {PROJECT}: key ({where} is empty, cut short or missing); "
        f"running it would delete every listener of the stack",
        f"restore the file (e.g. git checkout -- {where}); to remove every listener on "
        f"purpose, write {PROJECT}:listeners: []",
    )


def _unknown_key(key: str, known: list[str]) -> Problem:
    near = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    fix = f"did you mean {PROJECT}:{near[0]}?" if near else "remove it"
    return Problem(
        f"{PROJECT}:{key}", "unknown configuration key", f"{fix} (keys: {', '.join(known)})"
    )


def deploy(stack: AnyStack, parent: pulumi.Resource | None = None) -> Summaries:
    """Create the stack's issuers, authentications, authorizations and listeners; return each
    listener's summary by name (`<namespace>/<name>` for a name also used in the stack's
    namespace).

    Everything is checked before the first resource is created, so a refusal leaves nothing
    registered. Without `parent` (the stack program) nothing else can follow, so the registry
    is sealed and no resource waits on its gate; a Kubernetes provider is made from
    `stack.kubernetes`. Under a parent (the package's MqListenerSet) everything is its child,
    uses the parent's provider, and waits on the gate for what the program creates later.

    The stack program on a cluster first runs the pre-flight checks and discovery; under a
    parent the cluster is the consumer's provider, which cannot be read from here."""
    program: Callable[[AnyStack, pulumi.Resource | None], Summaries] = APIS[
        stack.api_version
    ].deploy
    return program(stack, parent)
