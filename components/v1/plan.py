"""What a checked GA configuration creates, as plain data: no Pulumi, no target.

A target turns a plan into resources: Kubernetes custom resources (components/kubernetes/ga.py)
or Azure resources (components/arm/). Each broker object is in
its final GA spec shape, with what it must be created after (`uses`: the issuer, authentication
and authorization it names, when the plan creates them too). Issuers and the TLS Secrets of
manual TLS are Kubernetes objects whatever the target: the plan lists them apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import join_path
from ..issuer import IssuerArgs
from ..spec import CERT_MANAGER_GROUP
from .auth import (
    AUTHENTICATION_KIND,
    AUTHORIZATION_KIND,
    BrokerAuthenticationArgs,
    BrokerAuthorizationArgs,
    auth_pulumi_name,
    resource_kind,
)
from .models import ManualTls, MqListenerV1Args
from .sharing import is_installed_default

LISTENER_KIND = "BrokerListener"
SECRET_KIND = "Secret"

ObjectKey = tuple[str, str, str | None]
"""(kind, name, namespace; None for a ClusterIssuer) of an object of the plan."""


@dataclass(frozen=True)
class PlannedObject:
    kind: str
    """BrokerListener, BrokerAuthentication or BrokerAuthorization."""
    name: str
    namespace: str
    spec: dict[str, Any]
    """The GA custom resource's spec, defaults written out (a listener's with brokerRef)."""
    uses: tuple[ObjectKey, ...] = ()
    """Objects of the plan (issuers included) to create first."""
    retain: bool = False
    """The `default` listener as installed: left in place when the stack stops managing it."""
    origin: str = ""
    """Its key path in the stack file (e.g. `authentications[0]`), for messages."""

    @property
    def key(self) -> ObjectKey:
        return (self.kind, self.name, self.namespace)

    @property
    def pulumi_name(self) -> str:
        """The listener's name, `authentication-<name>`, `authorization-<name>`: the Pulumi
        names of both targets, so a stack reads the same on both (the Kubernetes target
        qualifies a listener's with its namespace outside the stack's)."""
        return self.name if self.kind == LISTENER_KIND else auth_pulumi_name(self.kind, self.name)


@dataclass(frozen=True)
class PlannedSecret:
    """The kubernetes.io/tls Secret of a port's manual TLS, made from the given material."""

    path: str
    material: ManualTls
    namespace: str


@dataclass(frozen=True)
class PlanV1:
    objects: tuple[PlannedObject, ...]
    """Authentications and authorizations, then listeners: an order that creates each after
    what it uses."""
    issuers: tuple[IssuerArgs, ...] = ()
    """cert-manager issuers, namespace resolved (None for a ClusterIssuer)."""
    tls_secrets: tuple[PlannedSecret, ...] = field(default=())

    def creates(self) -> set[ObjectKey]:
        """The keys of everything the plan creates, issuers and Secrets included."""
        return {
            *(obj.key for obj in self.objects),
            *((i.kind, i.name, i.namespace) for i in self.issuers),
            *((SECRET_KIND, s.material.secret_ref, s.namespace) for s in self.tls_secrets),
        }


def plan_v1(
    namespace: str,
    listeners: Sequence[tuple[str, MqListenerV1Args]],
    authentications: Sequence[BrokerAuthenticationArgs] = (),
    authorizations: Sequence[BrokerAuthorizationArgs] = (),
    issuers: Sequence[IssuerArgs] = (),
) -> PlanV1:
    """The plan of checked GA objects: `listeners` as (key path, args with namespace, brokerRef
    and serviceName resolved); objects without a namespace get `namespace`."""
    planned_issuers = tuple(
        issuer.model_copy(
            update={
                "namespace": (issuer.namespace or namespace) if issuer.kind == "Issuer" else None
            }
        )
        for issuer in issuers
    )
    auth: list[tuple[str, BrokerAuthenticationArgs | BrokerAuthorizationArgs]] = [
        *((f"authentications[{i}]", obj) for i, obj in enumerate(authentications)),
        *((f"authorizations[{i}]", obj) for i, obj in enumerate(authorizations)),
    ]
    objects = [
        PlannedObject(
            kind=resource_kind(obj),
            name=obj.name,
            namespace=obj.namespace or namespace,
            spec=obj.spec(),
            origin=origin,
        )
        for origin, obj in auth
    ]
    secrets: dict[tuple[str, str], PlannedSecret] = {}
    for origin, listener in listeners:
        listener_namespace = str(listener.namespace)
        objects.append(
            PlannedObject(
                kind=LISTENER_KIND,
                name=listener.name,
                namespace=listener_namespace,
                spec=listener.spec(),
                uses=_uses(listener, listener_namespace),
                retain=is_installed_default(listener),
                origin=origin,
            )
        )
        for j, port in enumerate(listener.ports):
            manual = port.tls.manual if port.tls else None
            if manual is not None and manual.creates_secret:
                secrets.setdefault(
                    (listener_namespace, manual.secret_ref),
                    PlannedSecret(
                        join_path(origin, ("ports", j, "tls", "manual")),
                        manual,
                        listener_namespace,
                    ),
                )
    return PlanV1(tuple(objects), planned_issuers, tuple(secrets.values()))


def _uses(listener: MqListenerV1Args, namespace: str) -> tuple[ObjectKey, ...]:
    """What a listener's ports name: their issuers, TLS Secrets, authentications and
    authorizations."""
    wanted: dict[ObjectKey, None] = {}
    for port in listener.ports:
        spec = port.tls.cert_manager_certificate_spec if port.tls else None
        if spec is not None and spec.issuer_ref.group == CERT_MANAGER_GROUP:
            ref = spec.issuer_ref
            wanted[(ref.kind, ref.name, namespace if ref.kind == "Issuer" else None)] = None
        manual = port.tls.manual if port.tls else None
        if manual is not None and manual.creates_secret:
            wanted[(SECRET_KIND, manual.secret_ref, namespace)] = None
        if port.authentication_ref is not None:
            wanted[(AUTHENTICATION_KIND, port.authentication_ref, namespace)] = None
        if port.authorization_ref is not None:
            wanted[(AUTHORIZATION_KIND, port.authorization_ref, namespace)] = None
    return tuple(wanted)
