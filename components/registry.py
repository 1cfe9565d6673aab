"""The listeners of one Pulumi program, so that `MqListener`s and `MqListenerV1`s created one by
one are checked against each other and against the listeners already on the cluster, by the
rules of their API version (`ListenerRules`: components/v1beta1/registry.py,
components/v1/registry.py).

Pulumi sends a resource's registration only when the event loop next runs, which for an
ordinary program is after its top-level code has finished. Every MqListener waits on a gate
that opens at that point: if any listener of the program was refused meanwhile, the gate fails
and none of them is registered, so a conflict found at the fifth listener does not leave the
first four deployed. What an API checks once everything is known (the preview API's links
between listeners and BrokerAuthentications/Authorizations, since either side may be created
first) is checked when the gate opens too (`check_at_gate`).

The stack program needs no gate: it checks all its listeners and objects (`admit_all`) before
it creates its first resource and then `seal`s the registry, after which the gate is no
dependency at all and the components it creates find themselves checked.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, NoReturn, Protocol, TypeVar

import pulumi
from pulumi.runtime.settings import get_monitor
from pydantic import BaseModel, ValidationError

from .errors import ConfigError, Problem, problems_from_validation


class ListenerFacts(Protocol):
    """What the registry reads of any API's listener facts (the rules read the rest)."""

    @property
    def name(self) -> str: ...
    @property
    def origin(self) -> str: ...


A = TypeVar("A", bound=BaseModel)
E = TypeVar("E")
T = TypeVar("T")


@dataclass(frozen=True)
class CheckedListener(Generic[A]):
    """A listener as the stack program checks it before creating anything."""

    resource_name: str
    args: A
    facts: ListenerFacts
    problems: Sequence[Problem]
    extra: Any = None
    """What its API's rules keep beside the sharing facts (`ListenerRules.on_admit`): the
    preview API's link-check facts; None for GA, whose ports name their objects instead."""


@dataclass(frozen=True)
class ListenerRules:
    """One API version's listener rules, as the registry applies them."""

    api_version: str
    index: Callable[[], Callable[[Any], list[Problem]]]
    """A new index of one program's listeners: its function records a listener and returns the
    rules it breaks against the earlier ones."""
    assumed_existing: Callable[[Any], tuple[list[Any], list[Any]]]
    """The existing listeners (rule facts and extra facts) when none were declared, given the
    first listener admitted."""
    on_existing: Callable[[ProgramListeners, Sequence[Any]], None] | None = None
    """Takes the extra facts of the existing listeners."""
    on_admit: Callable[[ProgramListeners, Any], None] | None = None
    """Takes the extra facts of an admitted listener."""


@dataclass
class _Applied:
    """One API version's rules in one program."""

    check: Callable[[Any], list[Problem]]
    existing_declared: bool = field(default=False)


M = TypeVar("M", bound=BaseModel)


class ProgramListeners:
    """Listeners admitted so far in this program, and the gate their registrations wait on."""

    def __init__(self) -> None:
        self._rules: dict[str, _Applied] = {}
        self._failure: ConfigError | None = None
        self._gate: asyncio.Future[list[pulumi.Resource]] | None = None
        self._gate_output: pulumi.Output[list[pulumi.Resource]] | None = None
        self._extras: dict[Callable[[ProgramListeners], Any], Any] = {}
        self._gate_checks: list[Callable[[], ConfigError | None]] = []
        self._resource_names: dict[str, ListenerFacts] = {}
        self._checked: dict[tuple[type[BaseModel], str], BaseModel] = {}
        """Args checked up front by the stack program, by (args type, Pulumi name)."""
        self._sealed = False
        self.on_cluster = False
        """Whether the program's provider is known to talk to a cluster, not render YAML: set
        by the stack program in cluster mode and by `discover_existing_listeners_v1`. A patch
        of an object renders into that object's own file, so patches need a cluster."""

    def _rules_of(self, rules: ListenerRules) -> _Applied:
        if rules.api_version not in self._rules:
            self._rules[rules.api_version] = _Applied(rules.index())
        return self._rules[rules.api_version]

    def declare_existing(
        self,
        listeners: Sequence[ListenerFacts],
        extra: Sequence[Any] = (),
        *,
        rules: ListenerRules,
    ) -> None:
        """The listeners on the cluster of one API version: their sharing facts, and the extra
        facts its rules keep (preview API: their link-check facts)."""
        applied = self._rules_of(rules)
        if applied.existing_declared:
            raise pulumi.RunError(
                "aio-mq: existing listeners must be declared once, before the first MqListener "
                "(MqListenerV1 for the GA API) is created"
            )
        applied.existing_declared = True
        if rules.on_existing is not None:
            rules.on_existing(self, extra)
        found = [problem for listener in listeners for problem in applied.check(listener)]
        if found:
            self.refuse(ConfigError(found, "the existing listeners"))

    def validated(self, args: M | Mapping[str, Any], model: type[M], origin: str, name: str) -> M:
        """`args` as `model`; invalid args are refused (nothing of the program is registered),
        the problems located under `origin`."""
        try:
            return args if isinstance(args, model) else model.model_validate(args)
        except ValidationError as exc:
            self.refuse(
                ConfigError(
                    problems_from_validation(exc, model, origin),
                    f"{origin or model.__name__.removesuffix('Args')} {name!r}",
                )
            )

    def admit(
        self,
        resource_name: str,
        listener: ListenerFacts,
        problems: Sequence[Problem] = (),
        extra: Any = None,
        *,
        rules: ListenerRules,
        kind: str = "MqListener",
    ) -> None:
        """Check `listener` against all earlier ones of its API version. Its own `problems`, if
        any, and its conflicts are raised together, and then no listener of this program is
        registered. Reported under the listener's key path, or else its `kind` and name."""
        found = self._check(resource_name, listener, problems, extra, rules)
        if found:
            self.refuse(ConfigError(found, f"{listener.origin or kind} {listener.name!r}"))

    def admit_all(
        self,
        listeners: Sequence[CheckedListener[Any]],
        problems: Sequence[Problem] = (),
        *,
        rules: ListenerRules,
    ) -> None:
        """Check a whole set of listeners before any resource exists and raise one ConfigError
        with every problem (`problems` found before, e.g. by the pre-flight checks, first; what
        is checked at the gate, e.g. the preview links, once the objects are admitted too). The
        MqListeners created afterwards from the same args are not checked again."""
        found = [*problems]
        found += [
            problem
            for item in listeners
            for problem in self._check(
                item.resource_name, item.facts, item.problems, item.extra, rules
            )
        ]
        found += [problem for error in self._gate_errors() for problem in error.problems]
        if found:
            self.refuse(ConfigError(found))
        for item in listeners:
            self.mark_checked(item.resource_name, item.args)

    def mark_checked(self, resource_name: str, args: BaseModel) -> None:
        """`args` were checked up front: the component created from them under this name
        skips its own checks."""
        self._checked[(type(args), resource_name)] = args

    def checked(self, resource_name: str, args: BaseModel) -> bool:
        """Whether exactly these args were checked up front under this name."""
        return self._checked.get((type(args), resource_name)) is args

    def seal(self) -> None:
        """Everything of the program has been checked: from now on nothing waits on the gate."""
        self._sealed = True

    def _check(
        self,
        resource_name: str,
        listener: ListenerFacts,
        problems: Sequence[Problem],
        extra: Any,
        rules: ListenerRules,
    ) -> list[Problem]:
        applied = self._rules_of(rules)
        if not applied.existing_declared:
            self.declare_existing(*rules.assumed_existing(listener), rules=rules)
        if extra is not None and rules.on_admit is not None:
            rules.on_admit(self, extra)
        found = [*problems, *applied.check(listener)]
        named = self._resource_names.setdefault(resource_name, listener)
        if named is not listener:
            found.append(
                Problem(
                    listener.origin,
                    f"the Pulumi resource name {resource_name!r} of {listener} is already "
                    f"used by {named}; Pulumi names must be unique in a stack",
                    "give each MqListener its own resource name, e.g. '<namespace>/<name>'",
                )
            )
        return found

    def extra(self, kind: Callable[[ProgramListeners], E]) -> E:
        """The program's one `kind(self)`, made on first use: what an API keeps beside the
        listeners (the preview API's links, components/v1beta1/registry.py)."""
        if kind not in self._extras:
            self._extras[kind] = kind(self)
        made: E = self._extras[kind]
        return made

    def check_at_gate(self, check: Callable[[], ConfigError | None]) -> None:
        """Run `check` when the gate opens (and in `admit_all`): its error refuses the program."""
        self._gate_checks.append(check)

    def after_gate(self, value: Callable[[], T]) -> pulumi.Input[T]:
        """`value()` once everything of the program is known: at once when sealed, else when
        the gate opens."""
        if self._sealed:
            return value()
        return self._gate_opening().apply(lambda _: value())

    def _gate_errors(self) -> list[ConfigError]:
        return [error for check in self._gate_checks if (error := check()) is not None]

    def refuse(self, error: ConfigError) -> NoReturn:
        """Fail the program with `error`: nothing waiting on the gate is registered. A later
        call replaces the error, so a caller that gathers several reports them all."""
        self._failure = error
        raise error

    def gate(self) -> pulumi.Input[list[pulumi.Resource]]:
        """An input for `depends_on` that holds a registration until the program's listeners
        are known to be valid: nothing once the registry is sealed."""
        return [] if self._sealed else self._gate_opening()

    def _gate_opening(self) -> pulumi.Output[list[pulumi.Resource]]:
        if self._gate is None or self._gate.done() or self._gate_output is None:
            loop = asyncio.get_event_loop()
            self._gate = loop.create_future()
            loop.call_soon(self._decide, self._gate)
            self._gate_output = pulumi.Output.from_input(self._gate)
        return self._gate_output

    def _decide(self, gate: asyncio.Future[list[pulumi.Resource]]) -> None:
        if self._failure is None:
            self._failure = next(iter(self._gate_errors()), None)
        if self._failure is not None:
            gate.set_exception(self._failure)
        else:
            gate.set_result([])


# Keyed by the engine connection, so each program run (and each mocked test) starts afresh.
_programs: weakref.WeakKeyDictionary[Any, ProgramListeners] = weakref.WeakKeyDictionary()


def program_listeners() -> ProgramListeners:
    """The registry of the Pulumi program that is running now."""
    monitor = get_monitor()
    if monitor is None:
        raise pulumi.RunError("aio-mq: listeners can only be declared while a Pulumi program runs")
    return _programs.setdefault(monitor, ProgramListeners())


def parse_items(
    items: Iterable[M | Mapping[str, Any]], model: type[M], key: str, subject: str
) -> list[M]:
    """Each item as `model` (models pass as they are); one ConfigError for all bad items,
    located at `key[i]`."""
    parsed: list[M] = []
    problems: list[Problem] = []
    for i, item in enumerate(items):
        try:
            parsed.append(item if isinstance(item, model) else model.model_validate(item))
        except ValidationError as exc:
            problems += problems_from_validation(exc, model, f"{key}[{i}]")
    if problems:
        raise ConfigError(problems, subject)
    return parsed
