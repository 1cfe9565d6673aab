"""The stack config of the preview API (mq.iotoperations.azure.com/v1beta1): the `aio-mq:*` keys
of its stack files and of the package's MqListenerSet, Pulumi-free."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..config import StackBase, TlsSecret
from ..issuer import IssuerRef
from ..spec import ResourceName
from .auth import (
    ExistingAuthentication,
    ExistingAuthorization,
    MqAuthenticationArgs,
    MqAuthorizationArgs,
)
from .models import API_VERSION as V1BETA1
from .models import DEFAULT_BROKER, ExistingListener, MqListenerArgs


class StackConfig(StackBase):
    """All `aio-mq:*` keys of a stack file of the preview API (the default)."""

    api_version: Literal["mq.iotoperations.azure.com/v1beta1"] = V1BETA1
    """The API the custom resources are written for; it selects the shape of the other keys."""
    broker_ref: ResourceName = DEFAULT_BROKER
    """Broker of listeners that do not name one."""
    existing_listeners: list[ExistingListener] | None = None
    """Listeners already on the cluster. Rendering, absent means the documented default
    listener; on a cluster, the discovered listeners apply and these are added to them."""
    listeners: list[MqListenerArgs]
    """The BrokerListeners to create; `[]` (written out) for none."""
    authentications: list[MqAuthenticationArgs] = Field(default_factory=list)
    """The BrokerAuthentications to create."""
    authorizations: list[MqAuthorizationArgs] = Field(default_factory=list)
    """The BrokerAuthorizations to create."""
    existing_authentications: list[ExistingAuthentication] | None = None
    """BrokerAuthentications already on the cluster; absent means the deployment's `authn`."""
    existing_authorizations: list[ExistingAuthorization] | None = None
    """BrokerAuthorizations already on the cluster; absent means none."""

    def certificate_requests(self) -> list[tuple[str, IssuerRef, str | None]]:
        """(key path, issuerRef, listener namespace) of every automatic-TLS certificate."""
        return [
            (f"listeners[{i}].tls.automatic", item.tls.automatic.issuer_ref, item.namespace)
            for i, item in enumerate(self.listeners)
            if item.tls and item.tls.automatic
        ]

    def tls_secrets(self) -> list[TlsSecret]:
        """The manual-TLS Secrets the listeners use."""
        return [
            TlsSecret(
                f"listeners[{i}].tls.manual",
                "secretName",
                item.tls.manual.secret_name,
                item.namespace,
                item.tls.manual.secret_namespace,
                item.tls.manual.creates_secret,
            )
            for i, item in enumerate(self.listeners)
            if item.tls and item.tls.manual
        ]

    def private_keys(self) -> list[str]:
        """Key paths of the manual-TLS private keys given in the config."""
        return [
            f"listeners[{i}].tls.manual.privateKey"
            for i, item in enumerate(self.listeners)
            if item.tls and item.tls.manual and item.tls.manual.private_key is not None
        ]
