"""Which BrokerListeners can coexist: the service-sharing rules of the seed document.

Listeners with the same serviceType and serviceName share one Kubernetes Service that exposes
all their ports. From that follow the rules checked here, over the listeners of a program plus
those already on the cluster:

  Rule 1  listeners of one broker with the same serviceType use the same serviceName;
  Rule 2  listeners with different serviceTypes use different serviceNames
          (a Service name belongs to one type in its namespace);
  Ports   a port is used by at most one listener of a broker (the broker frontend binds every
          listener port) and by at most one listener behind a Service (a Service cannot
          expose a port twice);
  NodePorts  a nodePort is used by at most one listener (node ports are cluster-wide);
  Names   a listener name is used once per namespace.

The module is pure: no Pulumi, no I/O. `SharingIndex.add` checks one listener against those
added before it, so the same rules serve a whole stack config and listeners created one by
one in a larger program.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Listener:
    """The facts about a listener that the rules look at."""

    name: str
    namespace: str
    broker: str
    port: int
    service_type: str
    service_name: str
    node_port: int | None = None
    origin: str = ""
    """Where it was declared, e.g. `listeners[2]`, `existingListeners[0]` or `existing`."""
    on_cluster: str = ""
    """For a live listener this program does not manage, where it is and whose it is."""

    def __str__(self) -> str:
        where = f"{self.origin} " if self.origin else ""
        live = f" {self.on_cluster}" if self.on_cluster else ""
        return f"{where}{self.name!r}{live} ({self.service_type} {self.service_name}:{self.port})"


@dataclass(frozen=True)
class Conflict:
    rule: str
    new: Listener
    other: Listener
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.new} conflicts with {self.other}: {self.message}"


class SharingIndex:
    """The listeners seen so far, indexed by what the rules compare."""

    def __init__(self) -> None:
        self._names: dict[tuple[str, str], Listener] = {}
        self._ports: dict[tuple[str, str, int], Listener] = {}
        self._service_ports: dict[tuple[str, str, int], Listener] = {}
        self._name_of_type: dict[tuple[str, str, str], Listener] = {}
        self._type_of_name: dict[tuple[str, str], Listener] = {}
        self._node_ports: dict[int, Listener] = {}

    def add(self, new: Listener) -> list[Conflict]:
        """Record `new` and return every rule it breaks against an earlier listener."""
        conflicts: list[Conflict] = []
        ns = new.namespace

        same_name = self._names.setdefault((ns, new.name), new)
        if same_name is not new:
            conflicts.append(
                Conflict(
                    "Names",
                    new,
                    same_name,
                    f"both are named {new.name!r} in namespace {ns!r}",
                    f"rename {new.name!r} (to manage the live listener with this stack, "
                    "delete it on the cluster first)"
                    if same_name.on_cluster
                    else "rename one of them (if the other is an existing listener you now "
                    "want to manage here, remove it from existingListeners)",
                )
            )

        same_port = self._ports.setdefault((ns, new.broker, new.port), new)
        if same_port is not new:
            conflicts.append(
                Conflict(
                    "Ports",
                    new,
                    same_port,
                    f"port {new.port} is used twice on broker {new.broker!r}",
                    f"give {new.name!r} another port",
                )
            )
        # Brokers that share one Service by name would make it expose a port twice too.
        same_service_port = self._service_ports.setdefault((ns, new.service_name, new.port), new)
        if same_service_port is not new and same_service_port is not same_port:
            conflicts.append(
                Conflict(
                    "Ports",
                    new,
                    same_service_port,
                    f"Service {new.service_name!r} would expose port {new.port} twice",
                    f"give {new.name!r} another port or another serviceName",
                )
            )

        typed = self._name_of_type.setdefault((ns, new.broker, new.service_type), new)
        if typed.service_name != new.service_name:
            conflicts.append(
                Conflict(
                    "Rule 1",
                    new,
                    typed,
                    f"listeners with the same serviceType ({new.service_type}) must share "
                    f"one serviceName, and {typed.name!r} already uses {typed.service_name!r}",
                    f"set serviceName: {typed.service_name} on {new.name!r}, or give it "
                    "another serviceType with a serviceName of its own",
                )
            )

        named = self._type_of_name.setdefault((ns, new.service_name), new)
        if named.service_type != new.service_type:
            conflicts.append(
                Conflict(
                    "Rule 2",
                    new,
                    named,
                    f"listeners with different serviceTypes must use different serviceNames, "
                    f"and Service {new.service_name!r} is already {named.service_type}",
                    f"give {new.name!r} a serviceName of its own, or serviceType: "
                    f"{named.service_type} to share Service {new.service_name!r}",
                )
            )

        if new.node_port is not None:
            same_node_port = self._node_ports.setdefault(new.node_port, new)
            if same_node_port is not new:
                conflicts.append(
                    Conflict(
                        "NodePorts",
                        new,
                        same_node_port,
                        f"nodePort {new.node_port} is used twice (node ports are cluster-wide)",
                        f"give {new.name!r} another nodePort, or leave it out to let "
                        "Kubernetes pick one",
                    )
                )
        return conflicts


def conflicts(listeners: Iterable[Listener]) -> list[Conflict]:
    """Every rule broken within a set of listeners (existing ones first, for clearer messages)."""
    index = SharingIndex()
    return [conflict for listener in listeners for conflict in index.add(listener)]
