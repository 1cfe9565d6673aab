"""What the listener components of both APIs share on the Kubernetes target: their summary
fields as Outputs, and the kubernetes.io/tls Secret of manual TLS."""

from __future__ import annotations

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
