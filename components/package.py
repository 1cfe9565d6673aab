"""aio-mq as a Pulumi component package: `pulumi package add <this project>` from any language.

The plugin (PulumiPlugin.yaml, `__main__.py` when no program is running) hosts two components,
whose schema Pulumi infers from the annotations below:

- `MqListener`: one listener, checked on its own against the listeners already on the cluster.
- `MqListenerSet`: listeners, issuers, authentications, authorizations and what exists on the
  cluster, checked as one unit the way a stack file is; a problem anywhere registers none.

Each component is a separate construct call into the plugin, so checks (and "nothing is
registered") cannot span two components: listeners that must be checked against each other
belong in one MqListenerSet.

The input types mirror the pydantic models (components/v1beta1/models.py, components/issuer.py)
in the subset schema inference supports: enums instead of Literals, one-of choices as objects
with optional members. Inputs are handed to those same models and rules, so a Pulumi YAML or
TypeScript user gets the messages a stack-file user gets.
"""

import sys
import tomllib
from collections.abc import Mapping
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import pulumi
from pulumi.errors import InputPropertiesError
from pulumi.output import Unknown
from pulumi.provider import main
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.provider import ConstructResult
from pulumi.provider.server import ComponentInitError

from . import listener
from .errors import ConfigError, Problem, join_path
from .registry import program_listeners
from .stack import StackConfig, StackConfigV1, deploy, validate_config
from .stack_file import PROJECT

PACKAGE = PROJECT
LISTENER_TOKEN = f"{PACKAGE}:index:MqListener"
SET_TOKEN = f"{PACKAGE}:index:MqListenerSet"


def version() -> str:
    """The package version: pyproject.toml's, the one place it is written."""
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    return str(tomllib.loads(pyproject.read_text())["project"]["version"])


# --- enums (the Literals of the models; tests/test_package.py keeps them equal) -------------


class ServiceType(StrEnum):
    """Kubernetes Service type of the listener."""

    CLUSTER_IP = "clusterIp"
    LOAD_BALANCER = "loadBalancer"
    NODE_PORT = "nodePort"


class IssuerKind(StrEnum):
    """A namespaced cert-manager Issuer or a cluster-wide ClusterIssuer."""

    ISSUER = "Issuer"
    CLUSTER_ISSUER = "ClusterIssuer"


class KeyAlgorithm(StrEnum):
    """Algorithm of the certificate's private key."""

    ECDSA = "ECDSA"
    RSA = "RSA"
    ED25519 = "Ed25519"


class RotationPolicy(StrEnum):
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


class AutomaticTls(TypedDict):
    """cert-manager issues and renews the server certificate."""

    issuerRef: IssuerRef
    duration: NotRequired[str]
    """Certificate lifetime as a Go duration (default 720h)."""
    renewBefore: NotRequired[str]
    """Renew this long before expiry, a Go duration (default 240h)."""
    privateKey: NotRequired[CertPrivateKey]
    san: NotRequired[San]
    secretName: NotRequired[str]
    secretNamespace: NotRequired[str]


class ManualTls(TypedDict):
    """A kubernetes.io/tls Secret holds the certificate and key."""

    secretName: str
    """Name of the TLS Secret."""
    secretNamespace: NotRequired[str]
    certificate: NotRequired[str]
    """PEM certificate chain; with privateKey, the component creates the Secret."""
    privateKey: NotRequired[str]
    """PEM private key; pass it as a secret. With certificate, the component creates the
    Secret."""


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


class BrokerMethod(StrEnum):
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


# --- inputs as the models take them ----------------------------------------------------------


class _Inputs:
    """Construct inputs turned into the plain values the models validate.

    The engine sends numbers as floats, enums arrive as members, secrets and values with
    dependencies as Outputs whose value is already there. Keys are already the CR's camelCase
    names: the TypedDicts above spell them so. Values not known yet (another resource's output
    at preview) are problems: listeners are checked before anything is registered, so their
    fields must be known then.
    """

    def __init__(self, subject: str) -> None:
        self.subject = subject
        self.problems: list[Problem] = []
        self.secret_paths: set[str] = set()

    def plain(self, value: Any, path: str = "", secret: bool = False) -> Any:
        if secret:
            self.secret_paths.add(path)
        if isinstance(value, pulumi.Output):
            data = _resolved(value)
            if data is None or not data.is_known:
                return self._unknown(path)
            return self.plain(data.value, path, secret or data.is_secret)
        if isinstance(value, Unknown):
            return self._unknown(path)
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, Mapping):
            return {k: self.plain(v, join_path(path, (str(k),)), secret) for k, v in value.items()}
        if isinstance(value, list):
            return [self.plain(v, join_path(path, (i,)), secret) for i, v in enumerate(value)]
        return value

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
        inputs = _Inputs(f"MqListener {resource_name!r}")
        raw = inputs.plain(args)
        manual = (raw.get("tls") or {}).get("manual") or {}
        if manual.get("privateKey") is not None:
            inputs.problems += _not_secret(inputs, "tls.manual.privateKey")
        inputs.raise_problems()
        super().__init__(resource_name, raw, opts)


class MqListenerSet(pulumi.ComponentResource):
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
        subject = f"MqListenerSet {resource_name!r}"
        inputs = _Inputs(subject)
        raw = inputs.plain(args)
        inputs.raise_problems()
        stack = validate_config(
            raw, lambda stack: _private_keys_in_clear(stack, inputs), subject=subject
        )
        registry = program_listeners()
        super().__init__(
            SET_TOKEN,
            resource_name,
            None,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=registry.gate())),
        )
        summaries = _deploy_or_report(stack, self, subject)
        self.listeners = pulumi.Output.from_input(summaries)  # type: ignore[arg-type]
        self.register_outputs({"listeners": self.listeners})


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
    main(_Provider([MqListener, MqListenerSet], PACKAGE, version=version()), sys.argv[1:])
