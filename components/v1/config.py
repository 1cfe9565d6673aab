"""The stack config of the GA API (mqttbroker.iotoperations.azure.com/v1): the `aio-mq:*` keys of
its stack files and of the package's MqListenerSetV1, and the GA rules over the whole config
(listeners, names, references), Pulumi-free."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StrictInt, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from ..arm.config import AzureTarget, arm_problems, broker_of
from ..config import KubernetesTarget, StackBase, TlsSecret
from ..errors import Problem
from ..issuer import IssuerRef
from ..spec import ResourceName
from . import models as v1
from . import sharing as v1_sharing
from .auth import (
    AUTHENTICATION_KIND,
    AUTHORIZATION_KIND,
    DEFAULT_AUTHENTICATION,
    BrokerAuthenticationArgs,
    BrokerAuthorizationArgs,
)

DEFAULT_TIMEOUT_SECONDS = 600
"""aio-mq:waitTimeoutSeconds: how long `up` waits for the broker (components/v1/wait.py)."""
MAX_TIMEOUT_SECONDS = 86400


def _check_timeout(value: int) -> int:
    if not 0 <= value <= MAX_TIMEOUT_SECONDS:
        raise PydanticCustomError(
            "wait_timeout",
            "{value} is not a number of seconds from 0 to {max}",
            {
                "value": value,
                "max": MAX_TIMEOUT_SECONDS,
                "fix": f"write how long up waits for the broker, e.g. {DEFAULT_TIMEOUT_SECONDS}; "
                "0 turns waiting off",
            },
        )
    return value


TimeoutSeconds = Annotated[
    StrictInt,
    AfterValidator(_check_timeout),
    WithJsonSchema({"type": "integer", "minimum": 0, "maximum": MAX_TIMEOUT_SECONDS}),
]


class StackConfigV1(StackBase):
    """All `aio-mq:*` keys of a stack file of the GA API (mqttbroker.iotoperations.azure.com/v1)."""

    api_version: Literal["mqttbroker.iotoperations.azure.com/v1"]
    """The API the custom resources are written for; it selects the shape of the other keys."""
    broker_ref: ResourceName = v1.DEFAULT_BROKER
    """Broker of listeners that do not name one."""
    existing_listeners: list[v1.ExistingListenerV1] | None = None
    """GA listeners already on the cluster. Rendering, absent means the `default` listener
    Azure IoT Operations installs, unless `listeners` declares it (the stack then manages it);
    on a cluster, the discovered listeners apply and these are added to them."""
    listeners: list[v1.MqListenerV1Args]
    """The GA BrokerListeners to create; `[]` (written out) for none."""
    authentications: list[BrokerAuthenticationArgs] = Field(default_factory=list)
    """The GA BrokerAuthentications to create."""
    existing_authentications: list[BrokerAuthenticationArgs] | None = None
    """BrokerAuthentications already on the cluster; rendering, absent means `default`
    (service account tokens, audience aio-internal); on a cluster, the discovered ones apply
    and these are added to them."""
    authorizations: list[BrokerAuthorizationArgs] = Field(default_factory=list)
    """The GA BrokerAuthorizations to create."""
    existing_authorizations: list[BrokerAuthorizationArgs] = Field(default_factory=list)
    """BrokerAuthorizations already on the cluster; absent means none."""
    wait_timeout_seconds: TimeoutSeconds = DEFAULT_TIMEOUT_SECONDS
    """On a cluster, how long `up` waits for the broker to accept each object it creates or
    changes, and for a LoadBalancer listener's address (seconds; 0: do not wait)."""

    azure: AzureTarget | None = None
    """Create the objects as Azure resources of this IoT Operations instance (Azure Resource
    Manager) instead of Kubernetes custom resources; issuers and TLS Secrets, which are no
    Azure resources, then need aio-mq:kubernetes naming the instance's cluster."""

    @model_validator(mode="before")
    @classmethod
    def _arm_broker_is_the_default_broker_ref(cls, data: Any) -> Any:
        """Without aio-mq:brokerRef, the ARM target's broker is the listeners' broker, as the
        ARM discovery reads it."""
        if isinstance(data, dict) and "brokerRef" not in data and "broker_ref" not in data:
            broker = broker_of(data.get("azure"))
            if broker is not None:
                return {**data, "brokerRef": broker}
        return data

    def certificate_requests(self) -> list[tuple[str, IssuerRef, str | None]]:
        """(key path, issuerRef, listener namespace) of every port's cert-manager certificate."""
        return [
            (
                f"listeners[{i}].ports[{j}].tls.certManagerCertificateSpec",
                port.tls.cert_manager_certificate_spec.issuer_ref,
                item.namespace,
            )
            for i, item in enumerate(self.listeners)
            for j, port in enumerate(item.ports)
            if port.tls and port.tls.cert_manager_certificate_spec
        ]

    def tls_secrets(self) -> list[TlsSecret]:
        """The manual-TLS Secrets the ports use."""
        return [
            TlsSecret(
                f"listeners[{i}].ports[{j}].tls.manual",
                "secretRef",
                port.tls.manual.secret_ref,
                item.namespace,
                None,
                port.tls.manual.creates_secret,
            )
            for i, item in enumerate(self.listeners)
            for j, port in enumerate(item.ports)
            if port.tls and port.tls.manual
        ]

    def private_keys(self) -> list[str]:
        """Key paths of the ports' manual-TLS private keys given in the config."""
        return [
            f"listeners[{i}].ports[{j}].tls.manual.privateKey"
            for i, item in enumerate(self.listeners)
            for j, port in enumerate(item.ports)
            if port.tls and port.tls.manual and port.tls.manual.private_key is not None
        ]

    def problems(self, live: bool, cluster_given: bool = False) -> list[Problem]:
        """The GA rules over the whole config; with aio-mq:azure, the ARM target's too (its
        issuers and TLS Secrets need a cluster: aio-mq:kubernetes, or a composition's
        provider, `cluster_given`)."""
        problems = ga_problems(self, live)
        if self.azure is not None:
            problems += arm_problems(
                self.azure,
                broker_ref=self.broker_ref if "broker_ref" in self.model_fields_set else None,
                listeners=self.listeners,
                authentications=self.authentications,
                authorizations=self.authorizations,
                namespace=self.namespace,
                kubernetes_given=cluster_given or self.kubernetes != KubernetesTarget(),
                issuers=len(self.issuers),
            )
        return problems

    def listener_facts(self) -> list[v1_sharing.Listener]:
        return [
            v1_sharing.Listener.of(item, self.namespace, self.broker_ref, f"listeners[{i}]")
            for i, item in enumerate(self.listeners)
        ]

    def existing(self) -> list[v1.ExistingListenerV1]:
        if self.existing_listeners is not None:
            return self.existing_listeners
        return v1_sharing.assumed_existing(self.listener_facts())


def ga_problems(stack: StackConfigV1, live: bool = False) -> list[Problem]:
    """The GA rules over the whole config: listeners, names and references. `live`: what
    exists is read from the cluster later (components/v1/stack.py), so only the existing* keys count
    here, and references wait for the cluster."""
    authentications = declared_facts(stack, "authentications", stack.authentications)
    authorizations = declared_facts(stack, "authorizations", stack.authorizations)
    existing_authentications = existing_authentication_facts(stack, assume=not live)
    existing_authorizations = declared_facts(
        stack, "existingAuthorizations", stack.existing_authorizations
    )
    existing = stack.existing_listeners or [] if live else stack.existing()
    facts = v1_sharing.existing_facts(existing, stack.namespace, stack.broker_ref)
    problems = [
        # The registry checks these again listener by listener; here they join the others.
        *v1_sharing.listener_problems([*facts, *stack.listener_facts()]),
        *v1_sharing.duplicate_names(
            AUTHENTICATION_KIND, authentications + existing_authentications
        ),
        *v1_sharing.duplicate_names(AUTHORIZATION_KIND, authorizations + existing_authorizations),
    ]
    if not live:
        problems += v1_sharing.reference_problems(
            stack.listener_facts(),
            authentications + existing_authentications,
            authorizations + existing_authorizations,
        )
    return problems


def existing_authentication_facts(stack: StackConfigV1, assume: bool) -> list[v1_sharing.Declared]:
    """The declared existing authentications; absent, when `assume`, the default one."""
    declared = stack.existing_authentications
    if declared is None:
        declared = [DEFAULT_AUTHENTICATION] if assume else []
    return declared_facts(stack, "existingAuthentications", declared)


def declared_facts(
    stack: StackConfigV1,
    key: str,
    items: Sequence[BrokerAuthenticationArgs | BrokerAuthorizationArgs],
) -> list[v1_sharing.Declared]:
    return [
        v1_sharing.Declared(
            name=item.name,
            namespace=item.namespace or stack.namespace,
            origin=f"{key}[{i}]"
            if item is not DEFAULT_AUTHENTICATION
            else "the default authentication",
            methods=tuple(item.methods) if isinstance(item, BrokerAuthenticationArgs) else (),
        )
        for i, item in enumerate(items)
    ]
