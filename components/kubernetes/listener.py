"""What the listeners of both APIs share on the Kubernetes target: their components' summary
fields as Outputs, the kubernetes.io/tls Secret of manual TLS, and the aliases that keep the
resources of a stack or set written before they were registered without a component per
listener."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, Protocol, TypeVar, overload

import pulumi
import pulumi_kubernetes as k8s

from ..certs import TlsMaterial, tls_material

T = TypeVar("T")


class _Summarized(Protocol):
    @property
    def summary(self) -> pulumi.Output[dict[str, Any]]: ...


class SummaryField(Generic[T]):
    """An Output of one key of a listener component's `summary`, made on first access and then
    kept: a program with thousands of listeners reads few of them, and each Output costs a task."""

    def __init__(self, key: str, doc: str = "") -> None:
        self.key = key
        self.__doc__ = doc or key

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, listener: None, owner: type) -> SummaryField[T]: ...
    @overload
    def __get__(self, listener: _Summarized, owner: type) -> pulumi.Output[T]: ...
    def __get__(self, listener: _Summarized | None, owner: type) -> Any:
        if listener is None:
            return self
        output = listener.summary.apply(lambda summary: summary[self.key])
        listener.__dict__[self.name] = output  # a non-data descriptor: the instance's wins next
        return output


SECRET_TYPE = "kubernetes:core/v1:Secret"
"""The Pulumi type of a Kubernetes Secret."""


def tls_secret(
    resource_name: str,
    material: TlsMaterial,
    path: str,
    metadata: dict[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.Secret:
    """The kubernetes.io/tls Secret of manual TLS, its key a Pulumi secret (checked already)."""
    certificate, private_key, _ = tls_material(material, path)
    return k8s.core.v1.Secret(
        resource_name,
        metadata=metadata,
        type="kubernetes.io/tls",
        string_data={"tls.crt": certificate, "tls.key": pulumi.Output.secret(private_key)},
        opts=opts,
    )


def former_component(
    child: str,
    child_type: str,
    *,
    component: str,
    token: str,
    parent: pulumi.Resource | None,
    names: Sequence[str] = (),
) -> list[pulumi.Input[str]]:
    """The URNs a resource `child` (of type `child_type`), which a stack program or set now
    registers directly under `parent`, had as the child of a listener component (`token`)
    named `component`, itself under `parent`; also under each of `names`, an earlier name of
    that component whose child took that name too. As aliases, they keep the resources of a
    stack written then (no replacement), while the component leaves its state.

    Why it changed: one registration per listener instead of three (the component's, the
    resource's, its register_outputs) is most of a real-engine preview's time
    (docs/benchmarks.md). Why URNs rather than `pulumi.Alias` specs: the engine takes a URN
    as it is, where a spec is resolved per resource, which measured ~5% of a 1,000-listener
    preview."""
    urns: list[pulumi.Input[str]] = []
    for former in (component, *names):
        name = child if former == component else child.replace(component, former, 1)
        chain = f"{token}${child_type}"
        if parent is None:  # known now: an Output would cost a task per listener
            urns.append(f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{chain}::{name}")
        else:
            urns.append(pulumi.create_urn(name, chain, parent=parent))
    return urns
