"""aio-mq as a Pulumi component package: `pulumi package add <this project>` from any language.

The plugin (PulumiPlugin.yaml, `__main__.py` when no program is running) hosts four components,
two per API version, whose schema Pulumi infers from the annotations below:

- `MqListener` (preview API) / `MqListenerV1` (GA API): one listener, checked on its own against
  the listeners already on the cluster.
- `MqListenerSet` / `MqListenerSetV1`: listeners, issuers, authentications, authorizations and
  what exists on the cluster, checked as one unit the way a stack file of that API is; a problem
  anywhere registers none.

With `azure` (the stack key `aio-mq:azure`), the GA components create Azure resources through
azure-native (components/arm/) instead of custom resources, after the same checks; a program
that creates the instance and broker with azure-native passes their outputs in.

Each component is a separate construct call into the plugin, so checks (and "nothing is
registered") cannot span two components: listeners that must be checked against each other
belong in one MqListenerSet.

The input types mirror the pydantic models (components/v1beta1/models.py, components/v1/models.py,
components/v1/auth.py, components/issuer.py) in the subset schema inference supports: enums
instead of Literals, one-of choices as objects with optional members; types the two APIs share
are declared once. Inputs are handed to those same models and rules, so a Pulumi YAML or
TypeScript user gets the messages a stack-file user gets: the schema's enums document the values,
and a value outside them reaches the models too (`CheckedEnum`), to be reported with every other
problem of the input.
"""

import asyncio
import dataclasses
import functools
import re
import sys
import tomllib
from collections.abc import Collection, Mapping
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any, NotRequired, Self, TypedDict

import pulumi
from pulumi.errors import InputPropertiesError
from pulumi.output import Unknown
from pulumi.provider import main
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.provider import ConstructResult
from pulumi.provider.server import ComponentInitError
from pydantic import ValidationError

import components as listener  # the public MqListener, MqListenerV1 the package extends

from .arm import config as arm
from .arm.resources import arm_resources
from .errors import ConfigError, Problem, join_path, problems_from_validation
from .kubernetes.listener import tls_secret  # the Secret MqListenerV1 makes, made here too
from .metadata import object_metadata
from .registry import ProgramListeners, program_listeners
from .spec import DEFAULT_NAMESPACE
from .stack import deploy, validate_config
from .stack_file import PROJECT
from .v1 import models as v1
from .v1.config import StackConfigV1
from .v1.listener import check_listener as check_listener_v1
from .v1.plan import SECRET_KIND, ObjectKey, plan_v1
from .v1.registry import GA_RULES
from .v1beta1.config import StackConfig
from .v1beta1.models import API_VERSION as V1BETA1

PACKAGE = PROJECT
LISTENER_TOKEN = f"{PACKAGE}:index:MqListener"
SET_TOKEN = f"{PACKAGE}:index:MqListenerSet"
LISTENER_V1_TOKEN = f"{PACKAGE}:index:MqListenerV1"
SET_V1_TOKEN = f"{PACKAGE}:index:MqListenerSetV1"


def version() -> str:
    """The package version: pyproject.toml's, the one place it is written."""
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    return str(tomllib.loads(pyproject.read_text())["project"]["version"])


# --- enums (the Literals of the models; tests/test_package.py keeps them equal) -------------


class CheckedEnum(StrEnum):
    """An enum of the schema whose values aio-mq's models check.

    The schema lists the values for editors and typed SDKs, but the provider SDK turns each
    input into a member before the component runs and refuses any other value there, alone and
    without a fix. A value outside the enum becomes a stand-in member holding it, so the models
    refuse it with its key path and fix, in one report with the input's other problems.
    """

    @classmethod
    def _missing_(cls, value: object) -> Self:
        member = str.__new__(cls, str(value))
        member._name_ = "UNCHECKED"
        member._value_ = value  # type: ignore[assignment]  # as given, for the report
        return member

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._value_!r})"


class ServiceType(CheckedEnum):
    """Kubernetes Service type of the listener."""

    CLUSTER_IP = "clusterIp"
    LOAD_BALANCER = "loadBalancer"
    NODE_PORT = "nodePort"


class IssuerKind(CheckedEnum):
    """A namespaced cert-manager Issuer or a cluster-wide ClusterIssuer."""

    ISSUER = "Issuer"
    CLUSTER_ISSUER = "ClusterIssuer"


class KeyAlgorithm(CheckedEnum):
    """Algorithm of the certificate's private key."""

    ECDSA = "ECDSA"
    RSA = "RSA"
    ED25519 = "Ed25519"


class RotationPolicy(CheckedEnum):
    """Whether cert-manager makes a new private key on each renewal."""

    ALWAYS = "Always"
    NEVER = "Never"


# --- listener inputs (camelCase in the schema, as in the BrokerListener CR) -----------------


class IssuerRef(TypedDict):
    """The cert-manager issuer that signs the listener's server certificate."""

    name: str
    """Name of the Issuer or ClusterIssuer."""
    kind: NotRequired[IssuerKind]
    """Issuer (default) or ClusterIssuer."""
    group: NotRequired[str]
    """API group of the issuer (default cert-manager.io)."""


class CertPrivateKey(TypedDict):
    """Key of the issued certificate; all three fields together."""

    algorithm: KeyAlgorithm
    rotationPolicy: RotationPolicy
    size: int
    """Key size: ECDSA 256/384/521, RSA 2048/3072/4096/8192, Ed25519 256."""


class San(TypedDict):
    """Extra subject alternative names of the certificate."""

    dns: NotRequired[list[str]]
    ip: NotRequired[list[str]]


class CertificateRequest(TypedDict):
    """The cert-manager Certificate a listener asks for, in both APIs (components/issuer.py)."""

    issuerRef: IssuerRef
    duration: NotRequired[str]
    renewBefore: NotRequired[str]
    san: NotRequired[San]
    secretName: NotRequired[str]


class AutomaticTls(CertificateRequest):
    """cert-manager issues and renews the server certificate. duration: certificate lifetime,
    a Go duration (default 720h); renewBefore: renew this long before expiry (default 240h)."""

    privateKey: NotRequired[CertPrivateKey]
    secretNamespace: NotRequired[str]


class TlsMaterial(TypedDict):
    """A certificate and key to put into the TLS Secret, in both APIs (components/certs.py)."""

    certificate: NotRequired[str]
    privateKey: NotRequired[str]


class ManualTls(TlsMaterial):
    """A kubernetes.io/tls Secret holds the certificate and key. With certificate (PEM chain)
    and privateKey (PEM, passed as a secret) the component creates the Secret."""

    secretName: str
    """Name of the TLS Secret."""
    secretNamespace: NotRequired[str]


class VaultCredentials(TypedDict):
    servicePrincipalLocalSecretName: str


class Vault(TypedDict):
    name: str
    directoryId: str
    """Entra tenant id (a GUID)."""
    credentials: VaultCredentials


class VaultObject(TypedDict):
    name: str
    version: NotRequired[str]


class KeyVaultTls(TypedDict):
    """The certificate comes from Azure Key Vault through the Secrets Store CSI driver."""

    vault: Vault
    vaultCert: VaultObject
    vaultCaChainSecret: NotRequired[VaultObject]


class Tls(TypedDict):
    """Exactly one TLS mode; leave tls out for a listener without TLS."""

    automatic: NotRequired[AutomaticTls]
    manual: NotRequired[ManualTls]
    keyVault: NotRequired[KeyVaultTls]


class Listener(TypedDict):
    """One BrokerListener (mq.iotoperations.azure.com/v1beta1)."""

    name: str
    """metadata.name of the BrokerListener (a DNS-1123 label)."""
    port: int
    """TCP port the listener serves."""
    namespace: NotRequired[str]
    """Namespace (default azure-iot-operations, or the set's namespace)."""
    brokerRef: NotRequired[str]
    """Broker the listener belongs to (default broker, or the set's brokerRef)."""
    serviceType: NotRequired[ServiceType]
    """Service type (default clusterIp)."""
    serviceName: NotRequired[str]
    """Service the listener is exposed through, a DNS-1035 label (default aio-mq-dmqtt-frontend)."""
    nodePort: NotRequired[int]
    """Node port, only with serviceType nodePort."""
    authenticationEnabled: NotRequired[bool]
    authorizationEnabled: NotRequired[bool]
    tls: NotRequired[Tls]


class ExistingListener(TypedDict):
    """A listener already on the cluster that the new ones must coexist with."""

    name: str
    port: int
    namespace: NotRequired[str]
    brokerRef: NotRequired[str]
    serviceType: NotRequired[ServiceType]
    serviceName: NotRequired[str]
    nodePort: NotRequired[int]


class SelfSignedIssuer(TypedDict):
    """cert-manager's selfSigned issuer takes no settings: write `{}`."""


class CaIssuer(TypedDict):
    secretName: str
    """Secret holding the CA's certificate and key."""


class Issuer(TypedDict):
    """A cert-manager Issuer or ClusterIssuer to create; exactly one of selfSigned, ca."""

    name: str
    kind: NotRequired[IssuerKind]
    namespace: NotRequired[str]
    selfSigned: NotRequired[SelfSignedIssuer]
    ca: NotRequired[CaIssuer]


class BrokerMethod(CheckedEnum):
    """What an authorization rule allows."""

    CONNECT = "Connect"
    PUBLISH = "Publish"
    SUBSCRIBE = "Subscribe"


class SatMethod(TypedDict):
    """Kubernetes service account tokens; the token's audience must be one of these."""

    audiences: list[str]


class UsernamePasswordKeyVault(TypedDict):
    vault: Vault
    vaultSecret: VaultObject


class UsernamePasswordMethod(TypedDict):
    """Users with hashed passwords, from a Secret or Azure Key Vault: exactly one of them."""

    secretName: NotRequired[str]
    keyVault: NotRequired[UsernamePasswordKeyVault]


class X509Attributes(TypedDict):
    secretName: str
    """Secret holding the attributes of client certificates, for authorization rules."""


class X509Method(TypedDict):
    """Client certificates, checked against a trusted CA; only on listeners with TLS."""

    trustedClientCaCert: NotRequired[str]
    """ConfigMap with key client_ca.pem (default client-ca)."""
    attributes: NotRequired[X509Attributes]


class CustomAuthX509(TypedDict):
    secretName: str
    namespace: NotRequired[str]


class CustomAuth(TypedDict):
    x509: CustomAuthX509


class CustomMethod(TypedDict):
    """An external auth server that the broker asks over https."""

    endpoint: str
    caCert: NotRequired[str]
    auth: NotRequired[CustomAuth]
    headers: NotRequired[dict[str, str]]


class AuthenticationMethod(TypedDict):
    """One item of authenticationMethods: exactly one method."""

    sat: NotRequired[SatMethod]
    usernamePassword: NotRequired[UsernamePasswordMethod]
    x509: NotRequired[X509Method]
    custom: NotRequired[CustomMethod]


class Authentication(TypedDict):
    """A BrokerAuthentication for the listed listeners."""

    name: str
    listenerRef: list[str]
    """Names of BrokerListeners in the object's namespace."""
    authenticationMethods: list[AuthenticationMethod]
    """Tried in this order; the first relevant to a connecting client decides."""
    namespace: NotRequired[str]


class ExistingAuthentication(TypedDict):
    """A BrokerAuthentication already on the cluster."""

    name: str
    listenerRef: list[str]
    namespace: NotRequired[str]
    authenticationMethods: NotRequired[list[AuthenticationMethod]]


class Principals(TypedDict):
    """Who a rule is for; any one entry matching is enough."""

    clientids: NotRequired[list[str]]
    usernames: NotRequired[list[str]]
    attributes: NotRequired[list[dict[str, str]]]
    """Each map matches a client whose attributes have all of its key/value pairs."""


class BrokerResource(TypedDict):
    method: BrokerMethod
    topics: NotRequired[list[str]]
    """MQTT topic filters; Publish and Subscribe need them."""


class AuthorizationRule(TypedDict):
    principals: Principals
    brokerResources: list[BrokerResource]


class AuthorizationPolicies(TypedDict):
    rules: list[AuthorizationRule]
    enableCache: NotRequired[bool]


class Authorization(TypedDict):
    """A BrokerAuthorization for the listed listeners."""

    name: str
    listenerRef: list[str]
    authorizationPolicies: AuthorizationPolicies
    namespace: NotRequired[str]


class ExistingAuthorization(TypedDict):
    """A BrokerAuthorization already on the cluster."""

    name: str
    listenerRef: list[str]
    namespace: NotRequired[str]
    authorizationPolicies: NotRequired[AuthorizationPolicies]


class MqListenerSetArgs(TypedDict):
    """What a stack file's `aio-mq:*` keys hold, without the Kubernetes target."""

    listeners: list[Listener]
    namespace: NotRequired[str]
    """Namespace of listeners and Issuers that name none (default azure-iot-operations)."""
    brokerRef: NotRequired[str]
    """Broker of listeners that name none (default broker)."""
    issuers: NotRequired[list[Issuer]]
    existingListeners: NotRequired[list[ExistingListener]]
    """Listeners already on the cluster; absent means the default listener, [] none."""
    authentications: NotRequired[list[Authentication]]
    authorizations: NotRequired[list[Authorization]]
    existingAuthentications: NotRequired[list[ExistingAuthentication]]
    """Authentications already on the cluster; absent means the default authn, [] none."""
    existingAuthorizations: NotRequired[list[ExistingAuthorization]]


class ListenerSummary(TypedDict):
    name: str
    namespace: str
    port: int
    serviceName: str
    serviceType: str
    host: str
    tlsMode: str
    tlsIssuer: NotRequired[str]
    tlsSecretName: NotRequired[str]
    authentication: NotRequired[str]
    """The BrokerAuthentication linked to the listener."""
    authorization: NotRequired[str]
    """The BrokerAuthorization linked to the listener."""


# --- GA inputs (mqttbroker.iotoperations.azure.com/v1; components/v1/models.py, v1/auth.py) --


class ServiceTypeV1(CheckedEnum):
    """Kubernetes Service type of the GA listener (lower camel case is read too)."""

    CLUSTER_IP = "ClusterIp"
    LOAD_BALANCER = "LoadBalancer"
    NODE_PORT = "NodePort"


class Protocol(CheckedEnum):
    """What a port speaks."""

    MQTT = "Mqtt"
    WEB_SOCKETS = "WebSockets"


class TlsMode(CheckedEnum):
    """Which TLS block a port gives."""

    AUTOMATIC = "Automatic"
    MANUAL = "Manual"


class KeyAlgorithmV1(CheckedEnum):
    """Algorithm and size of the certificate's private key."""

    EC256 = "Ec256"
    EC384 = "Ec384"
    EC521 = "Ec521"
    ED25519 = "Ed25519"
    RSA2048 = "Rsa2048"
    RSA4096 = "Rsa4096"
    RSA8192 = "Rsa8192"


class PrivateKeyV1(TypedDict):
    """Key of the issued certificate; both fields together."""

    algorithm: KeyAlgorithmV1
    rotationPolicy: RotationPolicy


class CertManagerCertificateSpec(CertificateRequest):
    """cert-manager issues and renews the port's server certificate (mode Automatic).
    duration: certificate lifetime, a Go duration (default 720h); renewBefore: renew this long
    before expiry (default 240h)."""

    privateKey: NotRequired[PrivateKeyV1]


class ManualTlsV1(TlsMaterial):
    """A kubernetes.io/tls Secret in the listener's namespace (mode Manual). With certificate
    (PEM chain) and privateKey (PEM, passed as a secret) the component creates the Secret."""

    secretRef: str
    """Name of the TLS Secret."""


class TlsV1(TypedDict):
    """TLS of one port: the mode and its one block; leave tls out for a port without TLS."""

    mode: TlsMode
    certManagerCertificateSpec: NotRequired[CertManagerCertificateSpec]
    """With mode Automatic."""
    manual: NotRequired[ManualTlsV1]
    """With mode Manual."""


class ListenerPort(TypedDict):
    """One port of the listener's Service, with its own TLS and authentication."""

    port: int
    """TCP port (1-65535)."""
    nodePort: NotRequired[int]
    """Only on a NodePort listener; 30000-32767."""
    protocol: NotRequired[Protocol]
    """Mqtt (default) or WebSockets."""
    authenticationRef: NotRequired[str]
    """BrokerAuthentication in the listener's namespace; absent: no authentication."""
    authorizationRef: NotRequired[str]
    """BrokerAuthorization in the listener's namespace; only with authenticationRef."""
    tls: NotRequired[TlsV1]


class ListenerV1(TypedDict):
    """One GA BrokerListener (mqttbroker.iotoperations.azure.com/v1): a Service with ports."""

    name: str
    """metadata.name of the BrokerListener (a DNS-1123 label)."""
    ports: list[ListenerPort]
    """At least one."""
    namespace: NotRequired[str]
    """Namespace (default azure-iot-operations, or the set's namespace)."""
    brokerRef: NotRequired[str]
    """Broker the listener belongs to (default default, or the set's brokerRef)."""
    serviceType: NotRequired[ServiceTypeV1]
    """Service type (default ClusterIp)."""
    serviceName: NotRequired[str]
    """The Kubernetes Service (default: the listener's name)."""


class AuthenticationMethodKind(CheckedEnum):
    """How a BrokerAuthentication method authenticates clients."""

    SERVICE_ACCOUNT_TOKEN = "ServiceAccountToken"
    X509 = "X509"
    CUSTOM = "Custom"


class ServiceAccountTokenSettings(TypedDict):
    audiences: list[str]
    """A client's token must carry one of these audiences."""


class X509AuthorizationAttributes(TypedDict):
    subject: str
    attributes: NotRequired[dict[str, str]]


class X509Settings(TypedDict):
    trustedClientCaCert: NotRequired[str]
    """ConfigMap with the CA certificates client certificates must chain to (default
    client-ca)."""
    authorizationAttributes: NotRequired[dict[str, X509AuthorizationAttributes]]


class SecretRef(TypedDict):
    secretRef: str


class CustomAuthV1(TypedDict):
    x509: SecretRef


class CustomSettings(TypedDict):
    endpoint: str
    """https URL of the auth server."""
    caCertConfigMap: NotRequired[str]
    auth: NotRequired[CustomAuthV1]
    headers: NotRequired[dict[str, str]]


class AuthenticationMethodV1(TypedDict):
    """One method and its settings block (only the block that matches method)."""

    method: AuthenticationMethodKind
    serviceAccountTokenSettings: NotRequired[ServiceAccountTokenSettings]
    x509Settings: NotRequired[X509Settings]
    customSettings: NotRequired[CustomSettings]


class AuthenticationV1(TypedDict):
    """A GA BrokerAuthentication; ports refer to it by name (authenticationRef)."""

    name: str
    authenticationMethods: list[AuthenticationMethodV1]
    """Tried in order; the first method relevant to a client decides."""
    namespace: NotRequired[str]


class PrincipalsV1(TypedDict):
    """Who a rule is for; the entries are alternatives."""

    attributes: NotRequired[list[dict[str, str]]]
    clientIds: NotRequired[list[str]]
    usernames: NotRequired[list[str]]


class BrokerResourceV1(TypedDict):
    method: BrokerMethod
    clientIds: NotRequired[list[str]]
    topics: NotRequired[list[str]]
    """MQTT topic filters; Publish and Subscribe need them."""


class StateStoreKeyType(CheckedEnum):
    PATTERN = "Pattern"
    STRING = "String"
    BINARY = "Binary"


class StateStoreMethod(CheckedEnum):
    READ = "Read"
    WRITE = "Write"
    READ_WRITE = "ReadWrite"


class StateStoreResource(TypedDict):
    keyType: StateStoreKeyType
    keys: list[str]
    method: StateStoreMethod


class AuthorizationRuleV1(TypedDict):
    principals: PrincipalsV1
    brokerResources: NotRequired[list[BrokerResourceV1]]
    stateStoreResources: NotRequired[list[StateStoreResource]]


class AuthorizationCache(CheckedEnum):
    ENABLED = "Enabled"
    DISABLED = "Disabled"


class AuthorizationPoliciesV1(TypedDict):
    cache: NotRequired[AuthorizationCache]
    """Enabled (default) or Disabled."""
    rules: NotRequired[list[AuthorizationRuleV1]]
    """No rules deny everything."""


class AuthorizationV1(TypedDict):
    """A GA BrokerAuthorization; ports refer to it by name (authorizationRef)."""

    name: str
    namespace: NotRequired[str]
    authorizationPolicies: NotRequired[AuthorizationPoliciesV1]


class AzureTarget(TypedDict):
    """Create the objects as Azure resources (Azure Resource Manager, with azure-native) under
    this broker of this IoT Operations instance instead of Kubernetes custom resources: the
    stack key aio-mq:azure. resourceGroup, instance, broker and customLocation may be outputs of
    the azure-native resources that create them."""

    resourceGroup: pulumi.Input[str]
    """Resource group of the IoT Operations instance."""
    instance: pulumi.Input[str]
    """The IoT Operations instance."""
    broker: NotRequired[pulumi.Input[str]]
    """The broker of the instance (default default)."""
    customLocation: pulumi.Input[str]
    """Resource id of the custom location of the instance's Arc-enabled cluster."""
    subscriptionId: NotRequired[str]
    """Subscription of the instance (default: the one in customLocation)."""


_TARGET_OUTPUTS = tuple(
    f"azure.{key}" for key in AzureTarget.__annotations__ if key != "subscriptionId"
)
"""The key paths of the `azure` values that may be another resource's output (as the stack
program's AzureTarget takes them): passed on as they are, checked when known."""


class MqListenerSetV1Args(TypedDict):
    """What a GA stack file's `aio-mq:*` keys hold, without the Kubernetes target."""

    azure: NotRequired[AzureTarget]
    """Create the set's objects as Azure resources under this IoT Operations broker instead of
    custom resources (issuers and TLS Secrets stay on the cluster of the Kubernetes provider)."""
    listeners: list[ListenerV1]
    namespace: NotRequired[str]
    """Namespace of listeners and Issuers that name none (default azure-iot-operations)."""
    brokerRef: NotRequired[str]
    """Broker of listeners that name none (default default)."""
    issuers: NotRequired[list[Issuer]]
    existingListeners: NotRequired[list[ListenerV1]]
    """GA listeners already on the cluster; absent means the default listener Azure IoT
    Operations installs (unless listeners declares it: the set then manages it), [] none."""
    authentications: NotRequired[list[AuthenticationV1]]
    authorizations: NotRequired[list[AuthorizationV1]]
    existingAuthentications: NotRequired[list[AuthenticationV1]]
    """Authentications already on the cluster; absent means the default one, [] none."""
    existingAuthorizations: NotRequired[list[AuthorizationV1]]


class MqListenerV1Args(ListenerV1):
    """One GA listener, as a Kubernetes custom resource or, with azure, an Azure resource."""

    azure: NotRequired[AzureTarget]
    """Create the listener as an Azure resource under this IoT Operations broker instead of a
    custom resource (TLS Secrets stay on the cluster of the Kubernetes provider)."""


class PortSummary(TypedDict):
    port: int
    protocol: str
    tlsMode: str
    """None, Automatic or Manual."""
    nodePort: NotRequired[int]
    authentication: NotRequired[str]
    """The port's authenticationRef."""
    authorization: NotRequired[str]
    """The port's authorizationRef."""


class ListenerSummaryV1(TypedDict):
    name: str
    namespace: str
    serviceName: str
    serviceType: str
    host: str
    ports: list[PortSummary]


# --- inputs as the models take them ----------------------------------------------------------


class _Inputs:
    """Construct inputs turned into the plain values the models validate.

    The engine sends numbers as floats, enums arrive as members, secrets and values with
    dependencies as Outputs whose value is already there. Keys are already the CR's camelCase
    names: the TypedDicts above spell them so. Values not known yet (another resource's output
    at preview) are problems: listeners are checked before anything is registered, so their
    fields must be known then.
    """

    def __init__(self, subject: str, outputs_at: Collection[str] = ()) -> None:
        self.subject = subject
        self.problems: list[Problem] = []
        self.secret_paths: set[str] = set()
        self.outputs_at = frozenset(outputs_at)
        """Key paths whose value may stay unknown: it is passed on as an Output."""
        self.outputs: dict[str, pulumi.Output[Any]] = {}
        """The values at `outputs_at` that are, or come inside, an Output, as Outputs (with its
        dependencies), to pass on instead of their plain values once these are checked."""

    def plain(
        self,
        value: Any,
        path: str = "",
        secret: bool = False,
        within: pulumi.Output[Any] | None = None,
    ) -> Any:
        """`value` without Outputs, enums and whole floats. `within`: the Output it came in."""
        if secret:
            self.secret_paths.add(path)
        if path in self.outputs_at and path not in self.outputs:
            passed = _as_output(value, within)
            if passed is not None:
                self.outputs[path] = passed
        if isinstance(value, pulumi.Output):
            data = _resolved(value)
            if data is not None and (data.is_known or self._holds_outputs(path, data.value)):
                return self.plain(data.value, path, secret or data.is_secret, value)
            return self._passed_or_unknown(path)
        if isinstance(value, Unknown):
            return self._passed_or_unknown(path)
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, Mapping):
            return {
                k: self.plain(v, join_path(path, (str(k),)), secret, within)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [
                self.plain(v, join_path(path, (i,)), secret, within) for i, v in enumerate(value)
            ]
        return value

    def _holds_outputs(self, path: str, value: Any) -> bool:
        """Whether an unknown `value` at `path` is a mapping with `outputs_at` paths in it: its
        other parts are checked, those passed on."""
        prefix = join_path(path, ("",))
        return isinstance(value, Mapping) and any(p.startswith(prefix) for p in self.outputs_at)

    def _passed_or_unknown(self, path: str) -> pulumi.Output[Any] | None:
        """An unknown value: passed on where it may be, else a problem."""
        if path in self.outputs:
            return self.outputs[path]
        self._unknown(path)
        return None

    def _unknown(self, path: str) -> None:
        self.problems.append(
            Problem(
                path,
                "is not known before the deployment runs (another resource's output)",
                "pass a value known at preview: aio-mq checks listeners before it registers "
                "anything",
            )
        )

    def is_secret(self, path: str) -> bool:
        """Whether the value at `path` came in as a secret, or inside one."""
        return any(
            not p or path == p or path.startswith((f"{p}.", f"{p}[")) for p in self.secret_paths
        )

    def raise_problems(self) -> None:
        if self.problems:
            raise ConfigError(self.problems, self.subject)


def _as_output(value: Any, within: pulumi.Output[Any] | None) -> pulumi.Output[Any] | None:
    """`value` as an Output with the dependencies and secrecy of the Output it came in (the
    engine sends an input with dependencies as one Output of the whole value, unknown as a
    whole when a part is); None for a plain value that came in plain."""
    if isinstance(value, pulumi.Output):
        return value
    known = not isinstance(value, Unknown)
    if within is None:
        return None if known else pulumi.Output(set(), _done(None), _done(False))
    return pulumi.Output(
        within.resources(), _done(value if known else None), _done(known), within.is_secret()
    )


def _done(value: Any) -> asyncio.Future[Any]:
    future: asyncio.Future[Any] = asyncio.get_event_loop().create_future()
    future.set_result(value)
    return future


def _resolved(output: pulumi.Output[Any]) -> Any:
    # Construct inputs are Outputs over futures that are already resolved (server.py
    # `_select_value`, rpc.py `deserialize_output_value` of the pinned SDK); the component's
    # checks run synchronously inside construct, so read the data without awaiting it.
    data = getattr(output, "_data", None)
    return data.result() if data is not None and data.done() else None


# --- the components --------------------------------------------------------------------------


class MqListener(listener.MqListener):
    """An Azure IoT MQ BrokerListener, checked against the listeners already on the cluster
    (the default listener), with its TLS Secret when manual TLS brings a certificate and key.

    Each MqListener is checked on its own: to check listeners against each other, and to
    register none of them when one is refused, declare them in one MqListenerSet.
    """

    type_token = LISTENER_TOKEN

    listener_name: pulumi.Output[str]
    """metadata.name of the BrokerListener."""
    namespace: pulumi.Output[str]
    port: pulumi.Output[int]
    service_name: pulumi.Output[str]
    service_type: pulumi.Output[str]
    host: pulumi.Output[str]
    """In-cluster DNS name of the listener's Service."""
    tls_mode: pulumi.Output[str]
    """none, automatic, manual or keyVault."""
    tls_issuer: pulumi.Output[str | None]
    """cert-manager issuer (automatic TLS)."""
    tls_secret_name: pulumi.Output[str | None]
    """TLS Secret (manual TLS)."""
    authentication: pulumi.Output[str | None]
    """The BrokerAuthentication linked to the listener."""
    authorization: pulumi.Output[str | None]
    """The BrokerAuthorization linked to the listener."""

    def __init__(
        self, resource_name: str, args: Listener, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(resource_name, _listener_inputs(self, resource_name, args), opts)


class MqListenerV1(listener.MqListenerV1):
    """A GA BrokerListener (mqttbroker.iotoperations.azure.com/v1): one Service with its ports,
    checked against the listeners already on the cluster (the `default` listener Azure IoT
    Operations installs, ClusterIp), with the TLS Secrets its ports' manual TLS brings.

    Each MqListenerV1 is checked on its own, and its authenticationRef/authorizationRef are not
    checked: to check listeners against each other and against the BrokerAuthentications and
    BrokerAuthorizations they name, declare them in one MqListenerSetV1.
    """

    type_token = LISTENER_V1_TOKEN

    listener_name: pulumi.Output[str]
    """metadata.name of the BrokerListener."""
    namespace: pulumi.Output[str]
    service_name: pulumi.Output[str]
    service_type: pulumi.Output[str]
    host: pulumi.Output[str]
    """In-cluster DNS name of the listener's Service."""
    # The summary's dicts, typed for the schema.
    ports: pulumi.Output[list[PortSummary]]  # type: ignore[assignment]
    """Per port: port, nodePort, protocol, tlsMode, authentication, authorization."""

    def __init__(
        self,
        resource_name: str,
        args: MqListenerV1Args,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        self._azure: pulumi.Resource | None = None
        if args.get("azure") is None:
            super().__init__(resource_name, _listener_inputs(self, resource_name, args), opts)
            return
        # The ARM target: the same checks, then an Azure resource instead of the custom
        # resource (and the TLS Secrets on the cluster of the program's Kubernetes provider).
        inputs = _Inputs(f"{type(self).__name__} {resource_name!r}", _TARGET_OUTPUTS)
        raw = _listener_inputs(self, resource_name, args, inputs)
        registry = program_listeners()
        listener, target = _arm_listener(registry, resource_name, raw, inputs)
        pulumi.ComponentResource.__init__(
            self,
            self.type_token,
            resource_name,
            None,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=registry.gate())),
        )
        self._azure = _azure_objects(self, listener, target)
        self._summary = listener.summary()
        self.register_outputs({})

    @functools.cached_property
    def summary(self) -> pulumi.Output[dict[str, Any]]:
        """As the custom resource's: resolves once the listener is registered."""
        if self._azure is None:
            return super().summary
        return self._azure.urn.apply(lambda _: self.summary_values())


def _arm_listener(
    registry: ProgramListeners, resource_name: str, raw: dict[str, Any], inputs: _Inputs
) -> tuple[v1.MqListenerV1Args, arm.AzureTarget]:
    """The listener and target of a single listener with `azure`, checked as a GA stack
    with that one listener is (its references excepted, as on Kubernetes), its key paths the
    component's: any problem refuses the program."""
    one = {"apiVersion": v1.API_VERSION, "azure": raw.pop("azure"), "listeners": [raw]}
    try:
        stack = _with_outputs(StackConfigV1.model_validate(one), inputs.outputs)
    except ValidationError as exc:
        problems = problems_from_validation(exc, StackConfigV1)
        registry.refuse(ConfigError(_of_the_listener(problems), inputs.subject))
    assert stack.azure is not None  # validated from a value
    listener = stack.listeners[0].resolved(DEFAULT_NAMESPACE, stack.broker_ref)
    facts, problems = check_listener_v1(listener)
    problems += _of_the_listener(
        arm.arm_problems(
            stack.azure,
            broker_ref=None,
            listeners=stack.listeners,
            authentications=(),
            authorizations=(),
            namespace=str(listener.namespace),
            kubernetes_given=True,
            issuers=0,
        )
    )
    registry.admit(resource_name, facts, problems, rules=GA_RULES, kind="MqListenerV1")
    return listener, stack.azure


def _of_the_listener(problems: list[Problem]) -> list[Problem]:
    """Problems of `listeners[0]` located in the single listener's own args."""
    return [
        dataclasses.replace(p, path=re.sub(r"^listeners\[0\]\.?", "", p.path)) for p in problems
    ]


def _azure_objects(
    parent: pulumi.Resource, listener: v1.MqListenerV1Args, target: arm.AzureTarget
) -> pulumi.Resource:
    """The listener as an Azure resource, after the TLS Secrets its ports' manual TLS makes."""
    # Imported here: the azure-native SDK adds ~0.2 s to every program that imports it.
    from .arm.target import AzureBrokerObjects  # noqa: PLC0415

    plan = plan_v1(str(listener.namespace), [("", listener)])
    secrets: dict[ObjectKey, pulumi.Resource] = {
        (SECRET_KIND, s.material.secret_ref, s.namespace): tls_secret(
            f"{parent.pulumi_resource_name}-tls-{s.material.secret_ref}",
            s.material,
            s.path,
            object_metadata(s.material.secret_ref, s.namespace),
            pulumi.ResourceOptions(parent=parent),
        )
        for s in plan.tls_secrets
    }
    return AzureBrokerObjects(
        f"{parent.pulumi_resource_name}-azure",
        arm_resources(plan),
        target,
        pulumi.ResourceOptions(parent=parent),
        on_cluster=secrets,
    )


def _listener_inputs(
    component: pulumi.Resource, resource_name: str, args: Any, inputs: _Inputs | None = None
) -> Any:
    """The plain values of a single listener's inputs; its private keys must be secrets."""
    inputs = inputs or _Inputs(f"{type(component).__name__} {resource_name!r}")
    raw = inputs.plain(args)
    for path in _manual_private_keys(raw):
        inputs.problems += _not_secret(inputs, path)
    inputs.raise_problems()
    return raw


def _manual_private_keys(raw: Any, path: str = "") -> list[str]:
    """Key paths of the private keys given for manual TLS in raw listener inputs, under either
    API (`tls.manual.privateKey`, `ports[0].tls.manual.privateKey`)."""
    if isinstance(raw, list):
        return [
            p
            for i, item in enumerate(raw)
            for p in _manual_private_keys(item, join_path(path, (i,)))
        ]
    if not isinstance(raw, Mapping):
        return []
    manual = raw.get("manual")
    found = (
        [join_path(path, ("manual", "privateKey"))]
        if isinstance(manual, Mapping) and manual.get("privateKey") is not None
        else []
    )
    return found + [
        p
        for key, value in raw.items()
        if key != "manual"
        for p in _manual_private_keys(value, join_path(path, (str(key),)))
    ]


class _ListenerSet(pulumi.ComponentResource):
    """What both sets do: check the args as a stack file of `api_version` is checked, then
    register the set and everything under it; output the listeners' summaries by name."""

    def __init__(
        self,
        resource_name: str,
        args: Any,
        opts: pulumi.ResourceOptions | None,
        *,
        token: str,
        api_version: str,
    ) -> None:
        subject = f"{type(self).__name__} {resource_name!r}"
        inputs = _Inputs(subject, _TARGET_OUTPUTS)
        raw = inputs.plain(args)
        inputs.raise_problems()
        stack = validate_config(
            {**raw, "apiVersion": api_version},
            lambda stack: _private_keys_in_clear(stack, inputs),
            subject=subject,
            cluster_given=True,
        )
        stack = _with_outputs(stack, inputs.outputs)
        registry = program_listeners()
        super().__init__(
            token,
            resource_name,
            None,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=registry.gate())),
        )
        summaries = _deploy_or_report(stack, self, subject)
        # Typed per API by the subclass's annotation, which the schema is inferred from.
        self.listeners: pulumi.Output[Any] = pulumi.Output.from_input(summaries)
        self.register_outputs({"listeners": self.listeners})


class MqListenerSet(_ListenerSet):
    """Listeners with the cert-manager issuers, authentications and authorizations they use,
    and what is already on the cluster, checked as one unit like a stack file: any problem
    registers none of them."""

    listeners: pulumi.Output[dict[str, ListenerSummary]]
    """Per listener name: name, namespace, port, serviceName, serviceType, host, tlsMode,
    tlsIssuer, tlsSecretName, authentication, authorization (what the stack exports)."""

    def __init__(
        self,
        resource_name: str,
        args: MqListenerSetArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(resource_name, args, opts, token=SET_TOKEN, api_version=V1BETA1)


class MqListenerSetV1(_ListenerSet):
    """GA listeners with the cert-manager issuers, BrokerAuthentications and
    BrokerAuthorizations they use, and what is already on the cluster, checked as one unit like
    a GA stack file (mqttbroker.iotoperations.azure.com/v1): any problem registers none of
    them."""

    listeners: pulumi.Output[dict[str, ListenerSummaryV1]]
    """Per listener name: name, namespace, serviceName, serviceType, host and its ports (what a
    GA stack exports)."""

    def __init__(
        self,
        resource_name: str,
        args: MqListenerSetV1Args,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(resource_name, args, opts, token=SET_V1_TOKEN, api_version=v1.API_VERSION)


def _with_outputs(stack: StackConfig | StackConfigV1, outputs: Mapping[str, Any]) -> Any:
    """`stack` with the target values that came as Outputs passed on as those Outputs, so the
    Azure resources depend on what makes them (an instance's name: on the instance)."""
    if not isinstance(stack, StackConfigV1) or stack.azure is None:
        return stack
    given = {
        name: outputs[path]
        for name, field in type(stack.azure).model_fields.items()
        if (path := f"azure.{field.alias}") in outputs
    }
    return stack.model_copy(update={"azure": stack.azure.model_copy(update=given)})


def _deploy_or_report(
    stack: StackConfig | StackConfigV1, parent: pulumi.Resource, subject: str
) -> dict[str, pulumi.Input[dict[str, Any]]]:
    try:
        return deploy(stack, parent)
    except ConfigError as exc:
        # Under the set's name, for the construct error and for the registrations it stops.
        program_listeners().refuse(ConfigError(exc.problems, subject))


def _private_keys_in_clear(stack: StackConfig | StackConfigV1, inputs: _Inputs) -> list[Problem]:
    """The stack file's rule for the package: a private key must come in as a secret."""
    return [problem for path in stack.private_keys() for problem in _not_secret(inputs, path)]


def _not_secret(inputs: _Inputs, path: str) -> list[Problem]:
    if inputs.is_secret(path):
        return []
    return [
        Problem(
            path,
            "the private key is not a secret",
            "pass it as a secret, e.g. from a `secret: true` config value or fn::secret in "
            "Pulumi YAML, pulumi.Output.secret(...) in Python",
        )
    ]


# --- the plugin ------------------------------------------------------------------------------


class _Provider(ComponentProvider):
    def construct(
        self,
        name: str,
        resource_type: str,
        inputs: pulumi.Inputs,
        options: pulumi.ResourceOptions | None = None,
    ) -> ConstructResult:
        try:
            return super().construct(name, resource_type, inputs, options)
        except ComponentInitError as exc:
            # Reported as bad input, so the engine shows the message as it is, not as a crash
            # with a Python traceback. (An empty error list, not None: with None the pinned
            # SDK's server fails building the gRPC status.)
            if isinstance(exc.inner, ConfigError):
                raise InputPropertiesError(str(exc.inner), []) from None
            raise


def serve() -> None:
    """Run as the package's plugin: the engine passes its address in sys.argv."""
    main(
        _Provider(
            [MqListener, MqListenerSet, MqListenerV1, MqListenerSetV1], PACKAGE, version=version()
        ),
        sys.argv[1:],
    )
