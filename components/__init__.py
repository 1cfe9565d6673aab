"""aio-mq: Azure IoT MQ BrokerListeners as a Pulumi component.

from components import MqListener, MqListenerArgs
MqListener("telemetry", MqListenerArgs(name="telemetry", port=1884))
"""

from .errors import ConfigError, Problem
from .issuer import cert_manager_issuer
from .listener import MqListener
from .models import (
    DEFAULT_LISTENER,
    AutomaticTls,
    CaIssuer,
    CertPrivateKey,
    ExistingListener,
    IssuerArgs,
    IssuerRef,
    KeyVaultTls,
    ManualTls,
    MqListenerArgs,
    San,
    SelfSignedIssuer,
    Tls,
    Vault,
    VaultCredentials,
    VaultObject,
)
from .registry import declare_existing_listeners

__all__ = [
    "DEFAULT_LISTENER",
    "AutomaticTls",
    "CaIssuer",
    "CertPrivateKey",
    "ConfigError",
    "ExistingListener",
    "IssuerArgs",
    "IssuerRef",
    "KeyVaultTls",
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
]
