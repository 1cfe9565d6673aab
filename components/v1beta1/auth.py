"""Typed inputs that mirror BrokerAuthentication and BrokerAuthorization
(mq.iotoperations.azure.com/v1beta1; ../shared/reference/aio-mq-v1beta1-auth.md).

Keys are the custom resource's, so a spec pasted from the docs validates as is. The shape rules
that need no other object (check 7 of the link checks: Publish/Subscribe without topics, an
unknown method, empty lists, a `custom` endpoint that is not https) are checked here; the rules
between objects are in `authlinks`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, Field, StrictBool
from pydantic_core import PydanticCustomError

from .. import mqtt
from ..mqtt import AttributeMap, TopicFilter
from ..spec import (
    DEFAULT_NAMESPACE,
    Dns1123Label,
    HttpsUrl,
    OneOf,
    ResourceName,
    Spec,
)
from .models import Vault, VaultObject

DEFAULT_CLIENT_CA = "client-ca"
"""ConfigMap of an x509 method's trusted client CA when the method names none (the docs')."""


def _unique(names: list[str]) -> list[str]:
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise PydanticCustomError(
            "listed_twice",
            "{names} listed more than once",
            {"names": ", ".join(map(repr, twice)), "fix": "list each listener once"},
        )
    return names


ListenerRef = Annotated[
    list[Dns1123Label],
    Field(min_length=1),
    AfterValidator(_unique),
]
"""Names of BrokerListeners in the object's own namespace."""


# --- BrokerAuthentication ------------------------------------------------------------------


class SatMethod(Spec):
    """Kubernetes service account tokens; the token's audience must be one of these."""

    audiences: Annotated[list[str], Field(min_length=1)]


class UsernamePasswordKeyVault(Spec):
    vault: Vault
    vault_secret: VaultObject


class UsernamePasswordMethod(OneOf):
    """Users with hashed passwords (key `passwords.toml`), from a Secret or Azure Key Vault."""

    one_of = ("secretName", "keyVault")
    one_of_fix = "keep one of secretName, keyVault"

    secret_name: ResourceName | None = None
    key_vault: UsernamePasswordKeyVault | None = None


class X509Attributes(Spec):
    secret_name: ResourceName
    """Secret holding the attributes of client certificates, for authorization rules."""


class X509Method(Spec):
    """Client certificates, checked against a trusted CA; only on listeners with TLS."""

    trusted_client_ca_cert: ResourceName = DEFAULT_CLIENT_CA
    """ConfigMap with key `client_ca.pem` (written out; the docs' default name is client-ca)."""
    attributes: X509Attributes | None = None


class CustomAuthX509(Spec):
    secret_name: ResourceName
    namespace: Dns1123Label | None = None


class CustomAuth(Spec):
    x509: CustomAuthX509


class CustomMethod(Spec):
    """An external auth server that the broker asks over https."""

    endpoint: HttpsUrl
    ca_cert: ResourceName | None = None
    """ConfigMap with the CA that signed the server's certificate."""
    auth: CustomAuth | None = None
    """Client certificate the broker presents to the auth server."""
    headers: dict[str, str] | None = None


AuthenticationMethodName = Literal["sat", "usernamePassword", "x509", "custom"]


class AuthenticationMethod(OneOf):
    """One item of `authenticationMethods`: exactly one method."""

    one_of = ("sat", "usernamePassword", "x509", "custom")
    one_of_fix = "give each item of authenticationMethods one method (a list item per method)"

    sat: SatMethod | None = None
    username_password: UsernamePasswordMethod | None = None
    x509: X509Method | None = None
    custom: CustomMethod | None = None


class _Linked(Spec):
    """What both kinds' args share: a name, a namespace and the listeners they serve."""

    name: ResourceName
    namespace: Dns1123Label | None = Field(default=None, exclude=True)
    listener_ref: ListenerRef

    def resolved(self, namespace: str) -> Self:
        """A copy with the namespace filled in from the given default."""
        return self.model_copy(update={"namespace": self.namespace or namespace})

    def spec(self) -> dict[str, Any]:
        """The CR spec, defaults written out."""
        spec = self.cr()
        del spec["name"]
        return spec


class MqAuthenticationArgs(_Linked):
    """One BrokerAuthentication: an item of `aio-mq:authentications`, or the args of
    `MqAuthentication`. Without `namespace`, the stack's `aio-mq:namespace` applies."""

    authentication_methods: Annotated[list[AuthenticationMethod], Field(min_length=1)]
    """Tried in this order; the first relevant to a connecting client decides."""


class ExistingAuthentication(Spec):
    """A BrokerAuthentication already on the cluster. Its methods may be left out; then an
    x509 method in it is not checked against listeners without TLS."""

    name: ResourceName
    namespace: Dns1123Label | None = None
    listener_ref: ListenerRef
    authentication_methods: list[AuthenticationMethod] = Field(default_factory=list)


DEFAULT_AUTHENTICATION = ExistingAuthentication(
    name="authn",
    namespace=DEFAULT_NAMESPACE,
    listener_ref=["listener"],
    authentication_methods=[AuthenticationMethod(sat=SatMethod(audiences=["aio-mq"]))],
)
"""The BrokerAuthentication every Azure IoT Operations (preview) deployment creates."""


# --- BrokerAuthorization -------------------------------------------------------------------


class Principals(mqtt.Principals):
    """Who a rule is for; the entries are alternatives (any one matching is enough)."""

    clientids: list[str] | None = None
    """MQTT client ids."""
    usernames: list[str] | None = None
    attributes: list[AttributeMap] | None = None
    """Each map matches a client whose attributes have all of its key/value pairs."""


BrokerMethod = Literal["Connect", "Publish", "Subscribe"]


class BrokerResource(mqtt.BrokerResource):
    method: BrokerMethod
    topics: list[TopicFilter] | None = None
    """Topic filters; may use {principal.username}, {principal.attributes.<key>} and the like."""


class AuthorizationRule(Spec):
    principals: Principals
    broker_resources: Annotated[list[BrokerResource], Field(min_length=1)]


class AuthorizationPolicies(Spec):
    enable_cache: StrictBool = False
    """Cache authorization decisions (written out, false when absent)."""
    rules: Annotated[list[AuthorizationRule], Field(min_length=1)]


class MqAuthorizationArgs(_Linked):
    """One BrokerAuthorization: an item of `aio-mq:authorizations`, or the args of
    `MqAuthorization`. Without `namespace`, the stack's `aio-mq:namespace` applies."""

    authorization_policies: AuthorizationPolicies


class ExistingAuthorization(Spec):
    """A BrokerAuthorization already on the cluster (its policies may be left out)."""

    name: ResourceName
    namespace: Dns1123Label | None = None
    listener_ref: ListenerRef
    authorization_policies: AuthorizationPolicies | None = None
