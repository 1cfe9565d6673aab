"""Typed inputs that mirror the BrokerListener field table (mq.iotoperations.azure.com/v1beta1).

Keys are the custom resource's camelCase names, so a spec pasted from the docs validates as is;
snake_case attribute names are accepted too. Unknown keys are refused: a typo must not silently
become a default. Defaults are the documented ones and are written out into the CR, so a
`pulumi preview` diff never changes because the operator's defaults moved.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import AliasChoices, Field, StrictBool, StrictInt, model_validator
from pydantic_core import PydanticCustomError

from ..certs import TlsMaterial
from ..issuer import CertificateRequest, IssuerRef
from ..spec import (
    DEFAULT_NAMESPACE,
    Dns1123Label,
    Guid,
    KeyVaultName,
    KeyVaultObjectName,
    KeyVaultObjectVersion,
    OneOf,
    Port,
    ResourceName,
    ServiceName,
    Spec,
)

DEFAULT_BROKER = "broker"
DEFAULT_SERVICE_NAME = "aio-mq-dmqtt-frontend"
DEFAULT_SERVICE_TYPE: Final = "clusterIp"
API_VERSION: Final = "mq.iotoperations.azure.com/v1beta1"

ServiceType = Literal["clusterIp", "loadBalancer", "nodePort"]
TlsMode = Literal["none", "automatic", "manual", "keyVault"]


# --- tls.automatic -------------------------------------------------------------------------

_KEY_SIZES: dict[str, tuple[int, ...]] = {
    "ECDSA": (256, 384, 521),
    "RSA": (2048, 3072, 4096, 8192),
    "Ed25519": (256,),
}


class CertPrivateKey(Spec):
    """Key of the issued certificate; the docs ask for all three fields together."""

    algorithm: Literal["ECDSA", "RSA", "Ed25519"]
    rotation_policy: Literal["Always", "Never"]
    size: StrictInt

    @model_validator(mode="after")
    def _size_fits_algorithm(self) -> CertPrivateKey:
        sizes = _KEY_SIZES[self.algorithm]
        if self.size not in sizes:
            raise PydanticCustomError(
                "key_size",
                "size {size} does not fit algorithm {algorithm}",
                {
                    "size": self.size,
                    "algorithm": self.algorithm,
                    "fix": f"for {self.algorithm} use size " + " or ".join(map(str, sizes)),
                },
            )
        return self


class AutomaticTls(CertificateRequest):
    """cert-manager issues and renews the server certificate."""

    private_key: CertPrivateKey | None = None
    secret_namespace: Dns1123Label | None = None


# --- tls.manual ----------------------------------------------------------------------------


class ManualTls(TlsMaterial):
    """A kubernetes.io/tls Secret holds the certificate and key.

    When a certificate and a key are given, inline (`certificate`, `privateKey`) or as files
    (`certificateFile`, `privateKeyFile`), the component creates that Secret (the key stays a
    Pulumi secret); otherwise the Secret must already exist. None of them is a CR field.
    """

    secret_name: ResourceName
    secret_namespace: Dns1123Label | None = None


# --- tls.keyVault --------------------------------------------------------------------------


class VaultCredentials(Spec):
    service_principal_local_secret_name: ResourceName


class Vault(Spec):
    name: KeyVaultName
    directory_id: Guid
    credentials: VaultCredentials


class VaultObject(Spec):
    name: KeyVaultObjectName
    version: KeyVaultObjectVersion | None = None


class KeyVaultTls(Spec):
    """The certificate comes from Azure Key Vault through the Secrets Store CSI driver."""

    vault: Vault
    vault_cert: VaultObject
    # The docs say vaultCaChainCert, the API vaultCaChainSecret: both are read, the API's written.
    vault_ca_chain_secret: VaultObject | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "vaultCaChainSecret", "vaultCaChainCert", "vault_ca_chain_secret"
        ),
        serialization_alias="vaultCaChainSecret",
    )


class Tls(OneOf):
    """Exactly one TLS mode. Omit `tls` altogether for a listener without TLS."""

    one_of = ("automatic", "manual", "keyVault")
    one_of_fix = "keep one of automatic, manual, keyVault; remove tls to turn TLS off"

    automatic: AutomaticTls | None = None
    manual: ManualTls | None = None
    key_vault: KeyVaultTls | None = None

    @property
    def mode(self) -> TlsMode:
        if self.automatic is not None:
            return "automatic"
        return "manual" if self.manual is not None else "keyVault"


# --- the listener --------------------------------------------------------------------------


class MqListenerArgs(Spec):
    """One BrokerListener: an item of `aio-mq:listeners`, or the args of `MqListener`.

    `namespace` and `brokerRef` may be left out: the stack's `aio-mq:namespace` and
    `aio-mq:brokerRef` apply, or, used directly, `azure-iot-operations` and `broker`.
    """

    name: Dns1123Label
    port: Port
    namespace: Dns1123Label | None = Field(default=None, exclude=True)
    broker_ref: ResourceName | None = None
    service_type: ServiceType = DEFAULT_SERVICE_TYPE
    service_name: ServiceName = DEFAULT_SERVICE_NAME
    """The Kubernetes Service: a DNS-1035 label (a letter first)."""
    node_port: Port | None = None
    authentication_enabled: StrictBool = False
    authorization_enabled: StrictBool = False
    tls: Tls | None = None

    @model_validator(mode="after")
    def _node_port_needs_node_port_service(self) -> MqListenerArgs:
        if self.node_port is not None and self.service_type != "nodePort":
            raise PydanticCustomError(
                "node_port",
                "nodePort {node_port} is set but serviceType is {service_type}",
                {
                    "node_port": self.node_port,
                    "service_type": self.service_type,
                    "fix": "set serviceType: nodePort, or remove nodePort",
                },
            )
        return self

    @classmethod
    def extend_json_schema(cls, schema: dict[str, Any]) -> None:
        schema["if"] = {"required": ["nodePort"]}
        schema["then"] = {
            "required": ["serviceType"],
            "properties": {"serviceType": {"const": "nodePort"}},
        }

    @property
    def tls_mode(self) -> TlsMode:
        return "none" if self.tls is None else self.tls.mode

    def resolved(self, namespace: str, broker_ref: str) -> MqListenerArgs:
        """A copy with namespace and brokerRef filled in from the given defaults."""
        return self.model_copy(
            update={
                "namespace": self.namespace or namespace,
                "broker_ref": self.broker_ref or broker_ref,
            }
        )

    def spec(self) -> dict[str, Any]:
        """The BrokerListener spec, with every defaulted field written out."""
        spec = self.cr()
        del spec["name"]
        if (
            self.tls is not None
            and self.tls.automatic is not None
            and self.tls.automatic.san is not None
        ):
            # Written explicitly even when empty: the API refuses a san without both lists.
            san = spec["tls"]["automatic"]["san"]
            san.setdefault("dns", [])
            san.setdefault("ip", [])
        return spec


class ExistingListener(Spec):
    """A listener already on the cluster that new listeners must coexist with, and that
    BrokerAuthentications/Authorizations may list (hence its switches and TLS)."""

    name: Dns1123Label
    port: Port
    namespace: Dns1123Label | None = None
    broker_ref: ResourceName | None = None
    service_type: ServiceType = DEFAULT_SERVICE_TYPE
    service_name: Dns1123Label = DEFAULT_SERVICE_NAME
    """A DNS-1123 label: taken as it is on the cluster (a new Service needs a DNS-1035 one)."""
    node_port: Port | None = None
    authentication_enabled: StrictBool = False
    authorization_enabled: StrictBool = False
    tls: Tls | None = None


DEFAULT_LISTENER = ExistingListener(
    name="listener",
    port=8883,
    namespace=DEFAULT_NAMESPACE,
    broker_ref=DEFAULT_BROKER,
    service_type="clusterIp",
    service_name=DEFAULT_SERVICE_NAME,
    authentication_enabled=True,
    tls=Tls(automatic=AutomaticTls(issuer_ref=IssuerRef(name="mq-dmqtt-frontend"))),
)
"""The listener every Azure IoT Operations deployment creates (see the seed document)."""
