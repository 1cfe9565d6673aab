"""Typed inputs that mirror the GA BrokerListener field table
(mqttbroker.iotoperations.azure.com/v1).

A listener is one Kubernetes Service with a list of ports; TLS, authentication and authorization
are set per port. Keys are the custom resource's camelCase names (snake_case accepted), unknown
keys are refused, and every default is written out into the CR. The enum values the API also
accepts in lower camel case (`clusterIp`, `automatic`, `webSockets`) are read and written in
the canonical PascalCase, so a diff never shows a spelling change.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal, Self

from pydantic import Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from ..certs import TlsMaterial
from ..errors import join_path, quote
from ..issuer import CertificateRequest, IssuerRef
from ..spec import (
    DEFAULT_NAMESPACE,
    SERVICE_NAME,
    Dns1123Label,
    OneOf,
    PascalCase,
    Port,
    ResourceName,
    ServiceName,
    Spec,
)

API_VERSION: Final = "mqttbroker.iotoperations.azure.com/v1"
DEFAULT_BROKER = "default"
DEFAULT_SERVICE_TYPE: Final = "ClusterIp"
NODE_PORT_RANGE = (30000, 32767)


ServiceType = Annotated[Literal["ClusterIp", "LoadBalancer", "NodePort"], PascalCase()]
Protocol = Annotated[Literal["Mqtt", "WebSockets"], PascalCase()]
TlsMode = Annotated[Literal["Automatic", "Manual"], PascalCase()]
KeyAlgorithm = Annotated[
    Literal["Ec256", "Ec384", "Ec521", "Ed25519", "Rsa2048", "Rsa4096", "Rsa8192"], PascalCase()
]
RotationPolicy = Annotated[Literal["Always", "Never"], PascalCase()]


# --- tls -----------------------------------------------------------------------------------


class PrivateKey(Spec):
    """Key of the issued certificate; the API wants both fields together."""

    algorithm: KeyAlgorithm
    rotation_policy: RotationPolicy


class CertManagerCertificateSpec(CertificateRequest):
    """cert-manager issues and renews the port's server certificate (mode Automatic)."""

    private_key: PrivateKey | None = None


class ManualTls(TlsMaterial):
    """A kubernetes.io/tls Secret in the listener's namespace (mode Manual).

    With `certificate` and `privateKey` the component creates that Secret (the key stays a
    Pulumi secret); without them it must exist. Neither field is a CR field.
    """

    secret_ref: ResourceName


class Tls(OneOf):
    """TLS of one port: the mode and its one settings block. Leave `tls` out for no TLS."""

    one_of = ("certManagerCertificateSpec", "manual")
    one_of_fix = (
        "give certManagerCertificateSpec with mode: Automatic, or manual with mode: Manual; "
        "remove tls to turn TLS off"
    )

    mode: TlsMode
    cert_manager_certificate_spec: CertManagerCertificateSpec | None = None
    manual: ManualTls | None = None

    @model_validator(mode="after")
    def _mode_matches_block(self) -> Tls:
        block = "manual" if self.manual is not None else "certManagerCertificateSpec"
        expected = "Manual" if self.manual is not None else "Automatic"
        if self.mode != expected:
            raise PydanticCustomError(
                "tls_mode",
                "mode {mode} does not match the {block} block",
                {"mode": self.mode, "block": block, "fix": f"set mode: {expected}"},
            )
        return self


# --- the listener --------------------------------------------------------------------------


class ListenerPort(Spec):
    """One port of the listener's Service, with its own TLS and authentication."""

    port: Port
    node_port: Port | None = None
    """Only on a NodePort listener; 30000-32767."""
    protocol: Protocol = "Mqtt"
    authentication_ref: ResourceName | None = None
    """BrokerAuthentication in the listener's namespace; absent: no authentication."""
    authorization_ref: ResourceName | None = None
    """BrokerAuthorization in the listener's namespace; applies only with authenticationRef."""
    tls: Tls | None = None

    @model_validator(mode="after")
    def _node_port_range(self) -> ListenerPort:
        low, high = NODE_PORT_RANGE
        if self.node_port is not None and not low <= self.node_port <= high:
            raise PydanticCustomError(
                "node_port_range",
                "nodePort {node_port} is outside the node-port range {low}-{high}",
                {
                    "node_port": self.node_port,
                    "low": low,
                    "high": high,
                    "fix": f"use a nodePort from {low} to {high}, or leave it out to let "
                    "Kubernetes pick one",
                },
            )
        return self

    @model_validator(mode="after")
    def _authorization_needs_authentication(self) -> ListenerPort:
        if self.authorization_ref is not None and self.authentication_ref is None:
            raise PydanticCustomError(
                "authorization_without_authentication",
                "authorizationRef {ref} has no effect: the port has no authenticationRef",
                {
                    "ref": repr(self.authorization_ref),
                    "fix": "add an authenticationRef to this port, or remove authorizationRef",
                },
            )
        return self

    @classmethod
    def extend_json_schema(cls, schema: dict[str, Any]) -> None:
        schema["dependentRequired"] = {"authorizationRef": ["authenticationRef"]}

    @property
    def tls_mode(self) -> str:
        return "None" if self.tls is None else self.tls.mode


class ExistingListenerV1(Spec):
    """A GA BrokerListener already on the cluster (an item of `aio-mq:existingListeners`, or of
    `declare_existing_listeners_v1`): the shape of `MqListenerV1Args`, without the checks that
    only the API server's creating of a new Service would make. What exists is a fact: a check
    on it could only refuse a stack for something it does not create."""

    name: Dns1123Label
    namespace: Dns1123Label | None = Field(default=None, exclude=True)
    broker_ref: ResourceName | None = None
    service_type: ServiceType = DEFAULT_SERVICE_TYPE
    service_name: Dns1123Label | None = None
    """The Kubernetes Service; default: the listener's name (written out)."""
    ports: list[ListenerPort] = Field(min_length=1)

    @model_validator(mode="after")
    def _node_ports_need_node_port_service(self) -> Self:
        if self.service_type == "NodePort":
            return self
        wrong = [i for i, port in enumerate(self.ports) if port.node_port is not None]
        if wrong:
            raise PydanticCustomError(
                "node_port",
                "{where} set but serviceType is {service_type}",
                {
                    "where": ", ".join(join_path(f"ports[{i}]", ("nodePort",)) for i in wrong)
                    + (" is" if len(wrong) == 1 else " are"),
                    "service_type": self.service_type,
                    "fix": "set serviceType: NodePort, or remove nodePort",
                },
            )
        return self

    @property
    def service(self) -> str:
        """The Service name: serviceName, or the listener's name."""
        return self.service_name or self.name

    def resolved(self, namespace: str, broker_ref: str) -> Self:
        """A copy with namespace, brokerRef and serviceName filled in."""
        return self.model_copy(
            update={
                "namespace": self.namespace or namespace,
                "broker_ref": self.broker_ref or broker_ref,
                "service_name": self.service,
            }
        )

    def summary(self) -> dict[str, Any]:
        """What a stack exports per GA listener (namespace resolved): name, namespace,
        serviceName, serviceType, host, and per port: port, nodePort, protocol, tlsMode (None,
        Automatic or Manual), authentication and authorization (the referenced names or None)."""
        namespace = str(self.namespace)
        return {
            "name": self.name,
            "namespace": namespace,
            "serviceName": self.service,
            "serviceType": self.service_type,
            "host": f"{self.service}.{namespace}.svc.cluster.local",
            "ports": [
                {
                    "port": port.port,
                    "nodePort": port.node_port,
                    "protocol": port.protocol,
                    "tlsMode": port.tls_mode,
                    "authentication": port.authentication_ref,
                    "authorization": port.authorization_ref,
                }
                for port in self.ports
            ],
        }

    def spec(self) -> dict[str, Any]:
        """The BrokerListener spec, with every defaulted field written out."""
        spec = self.cr()
        del spec["name"]
        spec.setdefault("serviceName", self.name)
        return spec


class MqListenerV1Args(ExistingListenerV1):
    """One GA BrokerListener: an item of `aio-mq:listeners` under apiVersion
    mqttbroker.iotoperations.azure.com/v1, or the args of `MqListenerV1`.

    `namespace` and `brokerRef` may be left out: the stack's `aio-mq:namespace` and
    `aio-mq:brokerRef` apply, or, used directly, `azure-iot-operations` and `default`.
    """

    service_name: ServiceName | None = None
    """The Kubernetes Service (a DNS-1035 label); default: the listener's name (written out)."""

    @model_validator(mode="after")
    def _defaulted_service_name_is_a_service_name(self) -> Self:
        # The API server refuses the Service, not the listener: say so at the name, which is
        # where the user wrote the Service's name without knowing it.
        if self.service_name is None and not SERVICE_NAME.matches(self.name):
            error = PydanticCustomError(
                "dns1035_label",
                "{value} is not a DNS-1035 label, and the listener's Service takes this name "
                "(serviceName is not given)",
                {
                    "value": quote(self.name),
                    "fix": "give the listener a serviceName that starts with a letter (e.g. "
                    f"serviceName: mq-{self.name}), or a name that does",
                },
            )
            raise ValidationError.from_exception_data(
                type(self).__name__, [InitErrorDetails(type=error, loc=("name",), input=self.name)]
            )
        return self

    @classmethod
    def extend_json_schema(cls, schema: dict[str, Any]) -> None:
        schema["if"] = {"not": {"required": ["serviceName"]}}
        schema["then"] = {"properties": {"name": {"pattern": SERVICE_NAME.pattern.pattern}}}


# --- what every GA deployment contains -----------------------------------------------------

AIO_CERTIFICATE_ISSUER = "azure-iot-operations-aio-certificate-issuer"
DEFAULT_LISTENER = MqListenerV1Args(
    name="default",
    namespace=DEFAULT_NAMESPACE,
    broker_ref=DEFAULT_BROKER,
    service_type="ClusterIp",
    service_name="aio-broker",
    ports=[
        ListenerPort(
            port=18883,
            authentication_ref="default",
            tls=Tls(
                mode="Automatic",
                cert_manager_certificate_spec=CertManagerCertificateSpec(
                    issuer_ref=IssuerRef(name=AIO_CERTIFICATE_ISSUER, kind="ClusterIssuer"),
                    private_key=PrivateKey(algorithm="Ec256", rotation_policy="Always"),
                ),
            ),
        )
    ],
)
"""The listener Azure IoT Operations installs (`default`, aio-broker:18883, ClusterIp)."""
