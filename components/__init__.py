"""aio-mq: Azure IoT MQ BrokerListeners as Pulumi components.

from components import MqListener, MqListenerArgs                  # preview API (v1beta1)
MqListener("telemetry", MqListenerArgs(name="telemetry", port=1884))

from components import MqListenerV1, MqListenerV1Args              # GA API (v1)
from components.v1.models import ListenerPort
MqListenerV1("edge", MqListenerV1Args(name="edge", service_type="LoadBalancer",
                                      ports=[ListenerPort(port=8884)]))
"""

from .errors import ConfigError, Problem
from .issuer import CaIssuer, IssuerArgs, IssuerRef, San, SelfSignedIssuer, cert_manager_issuer
from .v1.discovery import DiscoveredV1, discover_existing_listeners_v1
from .v1.listener import MqListenerV1
from .v1.models import ExistingListenerV1, MqListenerV1Args
from .v1.registry import declare_existing_listeners_v1
from .v1beta1.auth import (
    DEFAULT_AUTHENTICATION,
    AuthenticationMethod,
    AuthorizationPolicies,
    AuthorizationRule,
    BrokerResource,
    ExistingAuthentication,
    ExistingAuthorization,
    MqAuthenticationArgs,
    MqAuthorizationArgs,
    Principals,
)
from .v1beta1.authobjects import MqAuthentication, MqAuthorization, declare_existing_auth
from .v1beta1.discovery import Discovered, discover_existing_listeners
from .v1beta1.listener import MqListener
from .v1beta1.models import (
    DEFAULT_LISTENER,
    AutomaticTls,
    CertPrivateKey,
    ExistingListener,
    KeyVaultTls,
    ManualTls,
    MqListenerArgs,
    Tls,
    Vault,
    VaultCredentials,
    VaultObject,
)
from .v1beta1.registry import declare_existing_listeners

__all__ = [
    "DEFAULT_AUTHENTICATION",
    "DEFAULT_LISTENER",
    "AuthenticationMethod",
    "AuthorizationPolicies",
    "AuthorizationRule",
    "AutomaticTls",
    "BrokerResource",
    "CaIssuer",
    "CertPrivateKey",
    "ConfigError",
    "Discovered",
    "DiscoveredV1",
    "ExistingAuthentication",
    "ExistingAuthorization",
    "ExistingListener",
    "ExistingListenerV1",
    "IssuerArgs",
    "IssuerRef",
    "KeyVaultTls",
    "ManualTls",
    "MqAuthentication",
    "MqAuthenticationArgs",
    "MqAuthorization",
    "MqAuthorizationArgs",
    "MqListener",
    "MqListenerArgs",
    "MqListenerV1",
    "MqListenerV1Args",
    "Principals",
    "Problem",
    "San",
    "SelfSignedIssuer",
    "Tls",
    "Vault",
    "VaultCredentials",
    "VaultObject",
    "cert_manager_issuer",
    "declare_existing_auth",
    "declare_existing_listeners",
    "declare_existing_listeners_v1",
    "discover_existing_listeners",
    "discover_existing_listeners_v1",
]
