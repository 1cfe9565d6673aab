"""aio-mq: Azure IoT MQ BrokerListeners as a Pulumi component.

from components import MqListener, MqListenerArgs
MqListener("telemetry", MqListenerArgs(name="telemetry", port=1884))
"""

from .discovery import (
    Discovered,
    LiveAuthentication,
    LiveAuthorization,
    discover_existing_listeners,
)
from .errors import ConfigError, Problem
from .issuer import CaIssuer, IssuerArgs, SelfSignedIssuer, cert_manager_issuer
from .listener import MqListener
from .registry import declare_existing_listeners
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
    "DEFAULT_LISTENER",
    "AutomaticTls",
    "CaIssuer",
    "CertPrivateKey",
    "ConfigError",
    "Discovered",
    "ExistingListener",
    "IssuerArgs",
    "IssuerRef",
    "KeyVaultTls",
    "LiveAuthentication",
    "LiveAuthorization",
    "ManualTls",
    "MqListener",
    "MqListenerArgs",
    "Problem",
    "San",
    "SelfSignedIssuer",
    "Tls",
    "Vault",
    "VaultCredentials",
    "VaultObject",
    "cert_manager_issuer",
    "declare_existing_listeners",
    "discover_existing_listeners",
]
