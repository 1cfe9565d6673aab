"""The listeners of one Pulumi program, so that `MqListener`s and `MqListenerV1`s created one by
one are checked against each other and against the listeners already on the cluster, by the
rules of their API version (components/v1beta1/sharing.py, components/v1/sharing.py).

Pulumi sends a resource's registration only when the event loop next runs, which for an
ordinary program is after its top-level code has finished. Every MqListener waits on a gate
that opens at that point: if any listener of the program was refused meanwhile, the gate fails
and none of them is registered, so a conflict found at the fifth listener does not leave the
first four deployed.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar

import pulumi
from pulumi.runtime.settings import get_monitor
from pydantic import BaseModel, ValidationError

from .errors import ConfigError, Problem, problems_from_validation
from .spec import DEFAULT_NAMESPACE
from .v1 import models as v1
from .v1 import sharing as v1_sharing
from .v1beta1.models import API_VERSION as V1BETA1
from .v1beta1.models import DEFAULT_BROKER, DEFAULT_LISTENER, ExistingListener
from .v1beta1.sharing import Conflict, Listener, SharingIndex

ListenerFacts = Listener | v1_sharing.Listener


def existing_facts(
    listeners: Sequence[ExistingListener],
    namespace: str = DEFAULT_NAMESPACE,
    broker: str = DEFAULT_BROKER,
    origin: str = "existingListeners",
) -> list[Listener]:
    """Rule facts for existing listeners, namespace and broker defaulted as given."""
    return [
        Listener(
            name=e.name,
            namespace=e.namespace or namespace,
            broker=e.broker_ref or broker,
            port=e.port,
            service_type=e.service_type,
            service_name=e.service_name,
            node_port=e.node_port,
            origin=f"{origin}[{i}]" if e is not DEFAULT_LISTENER else "the default listener",
        )
        for i, e in enumerate(listeners)
    ]


def conflict_problems(conflicts: Iterable[Conflict]) -> list[Problem]:
    return [Problem("", str(conflict), conflict.fix) for conflict in conflicts]


@dataclass
class _Rules:
    """One API version's listener rules, as the registry applies them."""

    check: Callable[[Any], list[Problem]]
    """Record a listener; return the rules it breaks against the earlier ones."""
    assumed_existing: Callable[[Any], list[Any]]
    """The existing listeners when none were declared, given the first listener admitted."""
    existing_declared: bool = field(default=False)


def _v1beta1_rules() -> _Rules:
    index = SharingIndex()
    return _Rules(
        check=lambda listener: conflict_problems(index.add(listener)),
        assumed_existing=lambda _first: existing_facts([DEFAULT_LISTENER]),
    )


def _v1_rules() -> _Rules:
    return _Rules(
        check=v1_sharing.ListenerIndex().add,
        assumed_existing=lambda first: v1_existing_facts(v1_sharing.assumed_existing([first])),
    )


_RULES: dict[str, Callable[[], _Rules]] = {V1BETA1: _v1beta1_rules, v1.API_VERSION: _v1_rules}


def v1_existing_facts(
    listeners: Sequence[v1.MqListenerV1Args],
    namespace: str = DEFAULT_NAMESPACE,
    broker: str = v1.DEFAULT_BROKER,
    origin: str = "existingListeners",
) -> list[v1_sharing.Listener]:
    """Rule facts for existing GA listeners, namespace and broker defaulted as given."""
    return [
        v1_sharing.Listener.of(
            e,
            namespace,
            broker,
            f"{origin}[{i}]" if e is not v1.DEFAULT_LISTENER else "the default listener",
            existing=True,
        )
        for i, e in enumerate(listeners)
    ]


class ProgramListeners:
    """Listeners admitted so far in this program, and the gate their registrations wait on."""

    def __init__(self) -> None:
        self._rules: dict[str, _Rules] = {}
        self._failure: ConfigError | None = None
        self._gate: asyncio.Future[list[pulumi.Resource]] | None = None
        self._gate_output: pulumi.Output[list[pulumi.Resource]] | None = None

    def _rules_of(self, api_version: str) -> _Rules:
        if api_version not in self._rules:
            self._rules[api_version] = _RULES[api_version]()
        return self._rules[api_version]

    def declare_existing(
        self, listeners: Sequence[ListenerFacts], api_version: str = V1BETA1
    ) -> None:
        rules = self._rules_of(api_version)
        if rules.existing_declared:
            raise pulumi.RunError(
                "aio-mq: existing listeners must be declared once, before the first MqListener "
                "(MqListenerV1 for the GA API) is created"
            )
        rules.existing_declared = True
        found = [problem for listener in listeners for problem in rules.check(listener)]
        if found:
            self.refuse(ConfigError(found, "the existing listeners"))

    def admit(
        self,
        listener: ListenerFacts,
        problems: Sequence[Problem] = (),
        api_version: str = V1BETA1,
    ) -> None:
        """Check `listener` against all earlier ones of its API version. Its own `problems`, if
        any, and its conflicts are raised together, and then no listener of this program is
        registered."""
        rules = self._rules_of(api_version)
        if not rules.existing_declared:
            self.declare_existing(rules.assumed_existing(listener), api_version)
        found = [*problems, *rules.check(listener)]
        if found:
            self.refuse(ConfigError(found, f"{listener.origin or 'MqListener'} {listener.name!r}"))

    def refuse(self, error: ConfigError) -> NoReturn:
        """Fail the program with `error`: nothing waiting on the gate is registered. A later
        call replaces the error, so a caller that gathers several reports them all."""
        self._failure = error
        raise error

    def gate(self) -> pulumi.Output[list[pulumi.Resource]]:
        """An input for `depends_on` that holds a registration until the program's listeners
        are known to be valid."""
        if self._gate is None or self._gate.done() or self._gate_output is None:
            loop = asyncio.get_event_loop()
            self._gate = loop.create_future()
            loop.call_soon(self._decide, self._gate)
            self._gate_output = pulumi.Output.from_input(self._gate)
        return self._gate_output

    def _decide(self, gate: asyncio.Future[list[pulumi.Resource]]) -> None:
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


M = TypeVar("M", bound=BaseModel)


def _parsed(items: Iterable[M | Mapping[str, Any]], model: type[M], subject: str) -> list[M]:
    parsed: list[M] = []
    problems: list[Problem] = []
    for i, item in enumerate(items):
        try:
            parsed.append(item if isinstance(item, model) else model.model_validate(item))
        except ValidationError as exc:
            problems += problems_from_validation(exc, model, f"existingListeners[{i}]")
    if problems:
        raise ConfigError(problems, subject)
    return parsed


def declare_existing_listeners(
    listeners: Iterable[ExistingListener | Mapping[str, Any]],
    namespace: str = DEFAULT_NAMESPACE,
    broker_ref: str = DEFAULT_BROKER,
) -> None:
    """Declare the listeners already on the cluster that this program's MqListeners must
    coexist with. Call it once, before the first MqListener; without it the documented default
    listener (`listener`, port 8883, clusterIp, aio-mq-dmqtt-frontend) is assumed. Pass an
    empty list for a broker without it. Namespace and broker default as given.
    """
    parsed = _parsed(listeners, ExistingListener, "declare_existing_listeners")
    program_listeners().declare_existing(existing_facts(parsed, namespace, broker_ref))


def declare_existing_listeners_v1(
    listeners: Iterable[v1.MqListenerV1Args | Mapping[str, Any]],
    namespace: str = DEFAULT_NAMESPACE,
    broker_ref: str = v1.DEFAULT_BROKER,
) -> None:
    """The same for the GA API's `MqListenerV1`s; items take the GA listener shape. Without it
    the listener Azure IoT Operations installs (`default`, aio-broker:18883, ClusterIp) is
    assumed, unless the first MqListenerV1 is that listener (the program then manages it).
    """
    parsed = _parsed(listeners, v1.MqListenerV1Args, "declare_existing_listeners_v1")
    program_listeners().declare_existing(
        v1_existing_facts(parsed, namespace, broker_ref), v1.API_VERSION
    )
