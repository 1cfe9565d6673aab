"""aio-mq: Azure IoT MQ BrokerListeners as a Pulumi component.

from components import MqListener, MqListenerArgs
MqListener("telemetry", MqListenerArgs(name="telemetry", port=1884))
"""

from .auth import MqAuthentication, MqAuthorization, declare_existing_auth
from .discovery import Discovered, discover_existing_listeners
from .errors import ConfigError, Problem
from .issuer import CaIssuer, IssuerArgs, SelfSignedIssuer, cert_manager_issuer
from .listener import MqListener
from .registry import declare_existing_listeners
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
from .v1beta1.models import (
    DEFAULT_LISTENER,
    AutomaticTls,
    CertPrivateKey,
    ExistingListener,
    IssuerRef,
    KeyVaultTls,
    ManualTls,
    MqListenerArgs,
    San,
    Tls,
    Vault,
    VaultCredentials,
    VaultObject,
)

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
    "ExistingAuthentication",
    "ExistingAuthorization",
    "ExistingListener",
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
    "discover_existing_listeners",
]
