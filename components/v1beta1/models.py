"""Typed inputs that mirror the BrokerListener field table (mq.iotoperations.azure.com/v1beta1).

Keys are the custom resource's camelCase names, so a spec pasted from the docs validates as is;
snake_case attribute names are accepted too. Unknown keys are refused: a typo must not silently
become a default. Defaults are the documented ones and are written out into the CR, so a
`pulumi preview` diff never changes because the operator's defaults moved.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import AliasChoices, Field, SecretStr, StrictBool, StrictInt, model_validator
from pydantic_core import PydanticCustomError

from ..spec import (
    CERT_MANAGER_GROUP,
    DEFAULT_NAMESPACE,
    ApiGroup,
    CertificateDuration,
    Dns1123Label,
    Guid,
    IpAddress,
    IssuerKind,
    KeyVaultName,
    KeyVaultObjectName,
    KeyVaultObjectVersion,
    OneOf,
    Port,
    RenewBefore,
    ResourceName,
    SanDnsName,
    Spec,
    go_duration_seconds,
)

DEFAULT_BROKER = "broker"
DEFAULT_SERVICE_NAME = "aio-mq-dmqtt-frontend"
DEFAULT_SERVICE_TYPE: Final = "clusterIp"
API_VERSION = "mq.iotoperations.azure.com/v1beta1"

ServiceType = Literal["clusterIp", "loadBalancer", "nodePort"]
TlsMode = Literal["none", "automatic", "manual", "keyVault"]


# --- tls.automatic -------------------------------------------------------------------------


class IssuerRef(Spec):
    """The cert-manager issuer that signs the listener's server certificate."""

    name: ResourceName
    kind: IssuerKind = "Issuer"
    group: ApiGroup = CERT_MANAGER_GROUP


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


class San(Spec):
    """Extra subject alternative names. The API wants both lists whenever san is present."""

    dns: list[SanDnsName] = Field(default_factory=list)
    ip: list[IpAddress] = Field(default_factory=list)


class AutomaticTls(Spec):
    """cert-manager issues and renews the server certificate."""

    issuer_ref: IssuerRef
    duration: CertificateDuration | None = None
    renew_before: RenewBefore | None = None
    private_key: CertPrivateKey | None = None
    san: San | None = None
    secret_name: ResourceName | None = None
    secret_namespace: Dns1123Label | None = None

    @model_validator(mode="after")
    def _renew_before_duration(self) -> AutomaticTls:
        # cert-manager rejects a Certificate that would renew before it is issued.
        duration = go_duration_seconds(self.duration or "720h")
        renew = go_duration_seconds(self.renew_before or "240h")
        if renew >= duration:
            raise PydanticCustomError(
                "renew_before",
                "renewBefore ({renew}) is not shorter than duration ({duration})",
                {
                    "renew": self.renew_before or "240h (default)",
                    "duration": self.duration or "720h (default)",
                    "fix": "make renewBefore shorter than duration, "
                    "e.g. duration 720h, renewBefore 240h",
                },
            )
        return self


# --- tls.manual ----------------------------------------------------------------------------


class ManualTls(Spec):
    """A kubernetes.io/tls Secret holds the certificate and key.

    When a certificate and a key are given, inline (`certificate`, `privateKey`) or as files
    (`certificateFile`, `privateKeyFile`), the component creates that Secret (the key stays a
    Pulumi secret); otherwise the Secret must already exist. None of them is a CR field.
    """

    secret_name: ResourceName
    secret_namespace: Dns1123Label | None = None
    certificate: str | None = Field(default=None, exclude=True, repr=False)
    private_key: SecretStr | None = Field(default=None, exclude=True, repr=False)
    certificate_file: str | None = Field(default=None, exclude=True)
    """PEM file of the certificate chain, relative to the project directory."""
    private_key_file: str | None = Field(default=None, exclude=True)
    """PEM file of the key, relative to the project directory: read at run time and kept a
    Pulumi secret; keep it out of git and readable by its owner only."""

    @model_validator(mode="after")
    def _one_source_each_and_both_or_neither(self) -> ManualTls:
        sources = {
            ("certificate", "certificateFile"): (self.certificate, self.certificate_file),
            ("privateKey", "privateKeyFile"): (self.private_key, self.private_key_file),
        }
        for (inline, file), (text, path) in sources.items():
            if text is not None and path is not None:
                raise PydanticCustomError(
                    "tls_source",
                    "{inline} and {file} are both given",
                    {
                        "inline": inline,
                        "file": file,
                        "fix": f"keep one of them: the text in {inline}, or a path in {file}",
                    },
                )
        given = [inline for (inline, _), pair in sources.items() if pair != (None, None)]
        if len(given) == 1:
            raise PydanticCustomError(
                "tls_material",
                "certificate and privateKey go together; {missing} is missing",
                {
                    "missing": "privateKey" if given == ["certificate"] else "certificate",
                    "fix": "give both (inline, or as files with certificateFile and "
                    "privateKeyFile) to create the Secret, or neither to use an existing Secret",
                },
            )
        return self

    @property
    def creates_secret(self) -> bool:
        return self.certificate is not None or self.certificate_file is not None


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
    service_name: Dns1123Label = DEFAULT_SERVICE_NAME
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
