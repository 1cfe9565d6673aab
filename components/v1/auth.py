"""GA BrokerAuthentication and BrokerAuthorization (mqttbroker.iotoperations.azure.com/v1).

A port links to them by name (`authenticationRef` / `authorizationRef`); they hold no reference
back. Models mirror the fact sheet's field lists; `broker_resource` registers either kind.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pulumi
from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from .. import mqtt
from ..mqtt import AttributeMap, TopicFilter
from ..spec import DEFAULT_NAMESPACE, Dns1123Label, HttpsUrl, PascalCase, ResourceName, Spec
from .objects import BrokerObject, Wait, broker_object

AUTHENTICATION_KIND = "BrokerAuthentication"
AUTHORIZATION_KIND = "BrokerAuthorization"

# --- BrokerAuthentication ------------------------------------------------------------------


class ServiceAccountTokenSettings(Spec):
    audiences: list[str] = Field(min_length=1)
    """A client's token must carry one of these audiences."""


class X509Attributes(Spec):
    subject: str
    attributes: dict[str, str] = Field(default_factory=dict)


class X509Settings(Spec):
    trusted_client_ca_cert: ResourceName = "client-ca"
    """ConfigMap with the CA certificates that client certificates must chain to."""
    authorization_attributes: dict[str, X509Attributes] = Field(default_factory=dict)


class CustomAuthX509(Spec):
    secret_ref: ResourceName


class CustomAuth(Spec):
    x509: CustomAuthX509


class CustomSettings(Spec):
    endpoint: HttpsUrl
    ca_cert_config_map: ResourceName | None = None
    auth: CustomAuth | None = None
    headers: dict[str, str] = Field(default_factory=dict)


Method = Annotated[Literal["ServiceAccountToken", "X509", "Custom"], PascalCase()]
_SETTINGS = {
    "ServiceAccountToken": "serviceAccountTokenSettings",
    "X509": "x509Settings",
    "Custom": "customSettings",
}


class AuthenticationMethod(Spec):
    """One method and its settings block (only the block that matches `method`)."""

    method: Method
    service_account_token_settings: ServiceAccountTokenSettings | None = None
    x509_settings: X509Settings | None = None
    custom_settings: CustomSettings | None = None

    @model_validator(mode="after")
    def _settings_match_method(self) -> AuthenticationMethod:
        given = [key for key in _SETTINGS.values() if self.cr().get(key) is not None]
        wanted = _SETTINGS[self.method]
        # X509 has workable defaults; the other methods cannot do without their block.
        missing = wanted not in given and self.method != "X509"
        if missing or any(key != wanted for key in given):
            raise PydanticCustomError(
                "method_settings",
                "method {method} takes {wanted}, found {found}",
                {
                    "method": self.method,
                    "wanted": wanted,
                    "found": ", ".join(given) or "no settings",
                    "fix": f"give {wanted} and no other settings block",
                },
            )
        return self


class BrokerAuthenticationArgs(Spec):
    """A GA BrokerAuthentication: an item of `aio-mq:authentications` under the GA API."""

    name: ResourceName
    namespace: Dns1123Label | None = Field(default=None, exclude=True)
    authentication_methods: list[AuthenticationMethod] = Field(min_length=1)
    """Tried in order; the first method relevant to a client decides."""

    @property
    def methods(self) -> list[str]:
        return [method.method for method in self.authentication_methods]

    def spec(self) -> dict[str, Any]:
        spec = self.cr()
        del spec["name"]
        return spec


DEFAULT_AUTHENTICATION = BrokerAuthenticationArgs(
    name="default",
    namespace=DEFAULT_NAMESPACE,
    authentication_methods=[
        AuthenticationMethod(
            method="ServiceAccountToken",
            service_account_token_settings=ServiceAccountTokenSettings(audiences=["aio-internal"]),
        )
    ],
)
"""The BrokerAuthentication Azure IoT Operations installs; its components need it unchanged."""


# --- BrokerAuthorization -------------------------------------------------------------------


class Principals(mqtt.Principals):
    """Who a rule is for; the entries are alternatives."""

    attributes: list[AttributeMap] = Field(default_factory=list)
    client_ids: list[str] = Field(default_factory=list)
    usernames: list[str] = Field(default_factory=list)


BrokerMethod = Annotated[Literal["Connect", "Publish", "Subscribe"], PascalCase()]


class BrokerResource(mqtt.BrokerResource):
    method: BrokerMethod
    client_ids: list[str] = Field(default_factory=list)
    topics: list[TopicFilter] = Field(default_factory=list)
    """Topic filters; may use {principal.username}, {principal.attributes.<key>} and the like."""


class StateStoreResource(Spec):
    key_type: Annotated[Literal["Pattern", "String", "Binary"], PascalCase()]
    keys: list[str] = Field(min_length=1)
    method: Annotated[Literal["Read", "Write", "ReadWrite"], PascalCase()]


class AuthorizationRule(Spec):
    principals: Principals
    broker_resources: list[BrokerResource] = Field(default_factory=list)
    state_store_resources: list[StateStoreResource] = Field(default_factory=list)


class AuthorizationPolicies(Spec):
    cache: Annotated[Literal["Enabled", "Disabled"], PascalCase()] = "Enabled"
    rules: list[AuthorizationRule] = Field(default_factory=list)
    """An empty list denies everything."""


class BrokerAuthorizationArgs(Spec):
    """A GA BrokerAuthorization: an item of `aio-mq:authorizations` under the GA API."""

    name: ResourceName
    namespace: Dns1123Label | None = Field(default=None, exclude=True)
    authorization_policies: AuthorizationPolicies = Field(default_factory=AuthorizationPolicies)

    def spec(self) -> dict[str, Any]:
        spec = self.cr()
        del spec["name"]
        return spec


def resource_kind(args: BrokerAuthenticationArgs | BrokerAuthorizationArgs) -> str:
    return AUTHENTICATION_KIND if isinstance(args, BrokerAuthenticationArgs) else AUTHORIZATION_KIND


def auth_pulumi_name(kind: str, name: str) -> str:
    """The Pulumi name of a BrokerAuthentication/Authorization on either target:
    `authentication-<name>`, `authorization-<name>`."""
    return f"{kind[len('Broker') :].lower()}-{name}"


def broker_resource(
    args: BrokerAuthenticationArgs | BrokerAuthorizationArgs,
    opts: pulumi.ResourceOptions | None = None,
    wait: Wait | None = None,
) -> BrokerObject:
    """Register `args` as a GA BrokerAuthentication or BrokerAuthorization in its namespace
    (by default azure-iot-operations), under the Pulumi name `<kind>-<name>`; with `wait`,
    the provider keeps `up` on it until the broker has answered (components/v1/wait.py)."""
    kind = resource_kind(args)
    namespace = args.namespace or DEFAULT_NAMESPACE
    return broker_object(
        auth_pulumi_name(kind, args.name),
        kind,
        args.name,
        namespace,
        args.spec(),
        opts=opts,
        wait=wait,
    )
