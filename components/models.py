"""Typed inputs that mirror the BrokerListener field table (mq.iotoperations.azure.com/v1beta1).

Keys are the custom resource's camelCase names, so a spec pasted from the docs validates as is;
snake_case attribute names are accepted too. Unknown keys are refused: a typo must not silently
become a default. Defaults are the documented ones and are written out into the CR, so a
`pulumi preview` diff never changes because the operator's defaults moved.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Final, Literal, Self

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ModelWrapValidatorHandler,
    SecretStr,
    StrictBool,
    StrictInt,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue, WithJsonSchema
from pydantic_core import InitErrorDetails, PydanticCustomError, core_schema

DEFAULT_NAMESPACE = "azure-iot-operations"
DEFAULT_BROKER = "broker"
DEFAULT_SERVICE_NAME = "aio-mq-dmqtt-frontend"
DEFAULT_SERVICE_TYPE: Final = "clusterIp"
API_VERSION = "mq.iotoperations.azure.com/v1beta1"
CERT_MANAGER_GROUP = "cert-manager.io"

ServiceType = Literal["clusterIp", "loadBalancer", "nodePort"]
IssuerKind = Literal["Issuer", "ClusterIssuer"]
TlsMode = Literal["none", "automatic", "manual", "keyVault"]

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
# A SAN DNS entry may start with one wildcard label (e.g. *.example.com).
_SAN_DNS = re.compile(
    r"^(\*\.)?[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$"
)
# Go's time.ParseDuration syntax, which cert-manager uses for duration and renewBefore.
_GO_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")
_GO_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_KEY_VAULT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$")
_KEY_VAULT_OBJECT = re.compile(r"^[A-Za-z0-9-]{1,127}$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class _Matching:
    """A string constraint with our own wording (pydantic's pattern error names no fix), that
    still shows up as a `pattern` in the JSON Schema for editors."""

    pattern: re.Pattern[str]
    error: str
    what: str
    fix: str

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.update(pattern=self.pattern.pattern, description=f"{self.what}: {self.fix}")
        return json_schema

    def _check(self, value: str) -> str:
        if not self.pattern.match(value):
            raise PydanticCustomError(
                self.error, "{value} is not " + self.what, {"value": repr(value), "fix": self.fix}
            )
        return value


def _check_ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise PydanticCustomError(
            "ip_address",
            "{value} is not an IP address",
            {
                "value": repr(value),
                "fix": "write an IPv4 or IPv6 address such as 10.0.0.4; DNS names go in san.dns",
            },
        ) from None


def _check_port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise PydanticCustomError(
            "tcp_port",
            "{value} is not a TCP port",
            {"value": value, "fix": "use an integer from 1 to 65535"},
        )
    return value


def go_duration_seconds(value: str) -> float:
    """Length of a Go duration string such as '720h' or '1h30m', in seconds."""
    return sum(
        float(number) * _GO_UNIT_SECONDS[unit]
        for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", value)
    )


Port = Annotated[
    StrictInt,
    AfterValidator(_check_port),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": 65535}),
]
Dns1123Label = Annotated[
    str,
    _Matching(
        _DNS1123_LABEL,
        "dns1123_label",
        "a DNS-1123 label",
        "use at most 63 lower-case letters, digits and '-', "
        "starting and ending with a letter or digit",
    ),
]
ResourceName = Annotated[
    str,
    _Matching(
        _DNS1123_SUBDOMAIN,
        "dns1123_subdomain",
        "a Kubernetes resource name (DNS-1123 subdomain)",
        "use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit",
    ),
]
SanDnsName = Annotated[
    str,
    _Matching(
        _SAN_DNS,
        "san_dns",
        "a DNS name",
        "write a host name such as mq.example.com or *.example.com; IP addresses go in san.ip",
    ),
]
IpAddress = Annotated[str, AfterValidator(_check_ip)]
GoDuration = Annotated[
    str,
    _Matching(
        _GO_DURATION,
        "go_duration",
        "a duration",
        "write a Go duration such as 720h, 90m or 1h30m (units h, m, s, ms, us, ns)",
    ),
]
KeyVaultName = Annotated[
    str,
    _Matching(
        _KEY_VAULT_NAME,
        "key_vault_name",
        "an Azure Key Vault name",
        "use 3-24 letters, digits and '-', starting with a letter",
    ),
]
KeyVaultObjectName = Annotated[
    str,
    _Matching(
        _KEY_VAULT_OBJECT,
        "key_vault_object",
        "an Azure Key Vault object name",
        "use 1-127 letters, digits and '-'",
    ),
]
Guid = Annotated[
    str,
    _Matching(
        _GUID,
        "guid",
        "a GUID",
        "use the Entra tenant id, e.g. 72f988bf-86f1-41af-91ab-2d7cd011db47",
    ),
]


class Spec(BaseModel):
    """Base of every config object: camelCase keys, unknown keys refused, immutable."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        use_attribute_docstrings=True,
        json_schema_extra=lambda schema, cls: cls.extend_json_schema(schema),
    )

    @classmethod
    def extend_json_schema(cls, schema: dict[str, Any]) -> None:
        """Add to this model's JSON Schema what its validators check beyond the fields."""

    def cr(self) -> dict[str, Any]:
        """This object as the custom resource spells it (excluded fields are not CR fields)."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


# --- tls.automatic -------------------------------------------------------------------------


class IssuerRef(Spec):
    """The cert-manager issuer that signs the listener's server certificate."""

    name: ResourceName
    kind: IssuerKind = "Issuer"
    group: str = CERT_MANAGER_GROUP


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
    duration: GoDuration | None = None
    renew_before: GoDuration | None = None
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

    When `certificate` and `privateKey` are given, the component creates that Secret (the key
    stays a Pulumi secret); otherwise the Secret must already exist. Neither field is a CR field.
    """

    secret_name: ResourceName
    secret_namespace: Dns1123Label | None = None
    certificate: str | None = Field(default=None, exclude=True, repr=False)
    private_key: SecretStr | None = Field(default=None, exclude=True, repr=False)

    @model_validator(mode="after")
    def _both_or_neither(self) -> ManualTls:
        if (self.certificate is None) != (self.private_key is None):
            missing = "privateKey" if self.private_key is None else "certificate"
            raise PydanticCustomError(
                "tls_material",
                "certificate and privateKey go together; {missing} is missing",
                {
                    "missing": missing,
                    "fix": "give both to create the Secret, or neither to use an existing Secret",
                },
            )
        return self

    @property
    def creates_secret(self) -> bool:
        return self.certificate is not None


# --- tls.keyVault --------------------------------------------------------------------------


class VaultCredentials(Spec):
    service_principal_local_secret_name: ResourceName


class Vault(Spec):
    name: KeyVaultName
    directory_id: Guid
    credentials: VaultCredentials


class VaultObject(Spec):
    name: KeyVaultObjectName
    version: str | None = None


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


class OneOf(Spec):
    """A config object whose keys are alternatives: exactly one must be given.

    Checked around field validation rather than after it, so a second mode is reported in the
    same run as a problem inside the first one.
    """

    one_of: ClassVar[tuple[str, ...]]
    one_of_fix: ClassVar[str]

    @model_validator(mode="wrap")
    @classmethod
    def _exactly_one(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        error = None
        if isinstance(data, dict):
            given = [
                alias
                for alias in cls.one_of
                if data.get(alias, data.get(_to_snake(alias))) is not None
            ]
            if len(given) != 1:
                error = PydanticCustomError(
                    "one_of",
                    "needs exactly one of {choices}, found {found}",
                    {
                        "choices": ", ".join(cls.one_of),
                        "found": ", ".join(given) or "none",
                        "fix": cls.one_of_fix,
                    },
                )
        try:
            model = handler(data)
        except ValidationError as exc:
            if error is None:
                raise
            details = [*_as_init_details(exc), InitErrorDetails(type=error, loc=(), input=data)]
            raise ValidationError.from_exception_data(exc.title, details) from None
        if error is not None:
            raise error
        return model

    @classmethod
    def extend_json_schema(cls, schema: dict[str, Any]) -> None:
        schema["oneOf"] = [{"required": [alias]} for alias in cls.one_of]


def _to_snake(alias: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", alias).lower()


def _as_init_details(exc: ValidationError) -> list[InitErrorDetails]:
    """Errors of exc in the form that builds a new ValidationError, custom messages kept."""
    return [
        InitErrorDetails(
            type=PydanticCustomError(err["type"], err["msg"], err.get("ctx")),
            loc=err["loc"],
            input=err["input"],
        )
        for err in exc.errors(include_url=False)
    ]


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
    """A listener already on the cluster that new listeners must coexist with."""

    name: Dns1123Label
    port: Port
    namespace: Dns1123Label | None = None
    broker_ref: ResourceName | None = None
    service_type: ServiceType = DEFAULT_SERVICE_TYPE
    service_name: Dns1123Label = DEFAULT_SERVICE_NAME
    node_port: Port | None = None


DEFAULT_LISTENER = ExistingListener(
    name="listener",
    port=8883,
    namespace=DEFAULT_NAMESPACE,
    broker_ref=DEFAULT_BROKER,
    service_type="clusterIp",
    service_name=DEFAULT_SERVICE_NAME,
)
"""The listener every Azure IoT Operations deployment creates (see the seed document)."""


# --- cert-manager issuers ------------------------------------------------------------------


class SelfSignedIssuer(Spec):
    """cert-manager's selfSigned issuer takes no settings."""


class CaIssuer(Spec):
    secret_name: ResourceName


class IssuerArgs(OneOf):
    """A cert-manager Issuer or ClusterIssuer to create (an item of `aio-mq:issuers`)."""

    one_of = ("selfSigned", "ca")
    one_of_fix = "give either selfSigned: {} or ca: {secretName: ...}"

    name: ResourceName
    kind: IssuerKind = "Issuer"
    namespace: Dns1123Label | None = Field(default=None, exclude=True)
    self_signed: SelfSignedIssuer | None = None
    ca: CaIssuer | None = None

    def spec(self) -> dict[str, Any]:
        spec = self.cr()
        for key in ("name", "kind"):
            del spec[key]
        return spec
