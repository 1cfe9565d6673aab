"""The listeners of one Pulumi program, so that `MqListener`s created one by one are checked
against each other and against the listeners already on the cluster.

Pulumi sends a resource's registration only when the event loop next runs, which for an
ordinary program is after its top-level code has finished. Every MqListener waits on a gate
that opens at that point: if any listener of the program was refused meanwhile, the gate fails
and none of them is registered, so a conflict found at the fifth listener does not leave the
first four deployed.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NoReturn

import pulumi
from pulumi.runtime.settings import get_monitor
from pydantic import ValidationError

from .errors import ConfigError, Problem, problems_from_validation
from .spec import DEFAULT_NAMESPACE
from .v1beta1.models import DEFAULT_BROKER, DEFAULT_LISTENER, ExistingListener
from .v1beta1.sharing import Conflict, Listener, SharingIndex


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


class ProgramListeners:
    """Listeners admitted so far in this program, and the gate their registrations wait on."""

    def __init__(self) -> None:
        self._index = SharingIndex()
        self._existing: list[Listener] | None = None
        self._failure: ConfigError | None = None
        self._gate: asyncio.Future[list[pulumi.Resource]] | None = None
        self._gate_output: pulumi.Output[list[pulumi.Resource]] | None = None

    def declare_existing(self, listeners: Sequence[Listener]) -> None:
        if self._existing is not None:
            raise pulumi.RunError(
                "aio-mq: existing listeners must be declared once, before the first MqListener "
                "is created"
            )
        self._existing = list(listeners)
        # Two live listeners that clash are the cluster's business, not this program's.
        conflicts = [
            c
            for listener in self._existing
            for c in self._index.add(listener)
            if not (c.new.on_cluster and c.other.on_cluster)
        ]
        if conflicts:
            self.refuse(ConfigError(conflict_problems(conflicts), "the existing listeners"))

    def admit(self, listener: Listener, problems: Sequence[Problem] = ()) -> None:
        """Check `listener` against all earlier ones. Its own `problems`, if any, and its
        conflicts are raised together, and then no listener of this program is registered."""
        if self._existing is None:
            self.declare_existing(existing_facts([DEFAULT_LISTENER]))
        found = [*problems, *conflict_problems(self._index.add(listener))]
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


def parse_existing(
    listeners: Iterable[ExistingListener | Mapping[str, Any]],
    namespace: str = DEFAULT_NAMESPACE,
    broker_ref: str = DEFAULT_BROKER,
) -> list[Listener]:
    """Rule facts for existing listeners given as models or mappings; raises one ConfigError
    for every item that does not validate."""
    parsed: list[ExistingListener] = []
    problems: list[Problem] = []
    for i, item in enumerate(listeners):
        try:
            parsed.append(
                item
                if isinstance(item, ExistingListener)
                else ExistingListener.model_validate(item)
            )
        except ValidationError as exc:
            problems += problems_from_validation(exc, ExistingListener, f"existingListeners[{i}]")
    if problems:
        raise ConfigError(problems, "the existing listeners")
    return existing_facts(parsed, namespace, broker_ref)


def declare_existing_listeners(
    listeners: Iterable[ExistingListener | Mapping[str, Any]],
    namespace: str = DEFAULT_NAMESPACE,
    broker_ref: str = DEFAULT_BROKER,
) -> None:
    """Declare the listeners already on the cluster that this program's MqListeners must
    coexist with. Call it once, before the first MqListener; without it the documented default
    listener (`listener`, port 8883, clusterIp, aio-mq-dmqtt-frontend) is assumed. Pass an
    empty list for a broker without it. Namespace and broker default as given.
    `discover_existing_listeners` reads them from the cluster instead.
    """
    program_listeners().declare_existing(parse_existing(listeners, namespace, broker_ref))
