"""BrokerAuthentication / BrokerAuthorization: the models, the components in a composition and
the stack program's keys, under mocks."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from pydantic import ValidationError

from components import (
    ConfigError,
    MqAuthentication,
    MqAuthenticationArgs,
    MqAuthorization,
    MqAuthorizationArgs,
    MqListener,
    declare_existing_auth,
    declare_existing_listeners,
)
from components.errors import problems_from_validation
from tests.conftest import MARK, Engine
from tests.fake_cluster import FakeCluster
from tests.test_stack import refused, run_main

API = "kubernetes:mq.iotoperations.azure.com/v1beta1"
AUTHENTICATION = f"{API}:BrokerAuthentication"
AUTHORIZATION = f"{API}:BrokerAuthorization"
LISTENER = f"{API}:BrokerListener"
TLS = {"automatic": {"issuerRef": {"name": "ca"}}}
SAT = {"sat": {"audiences": ["aio-mq"]}}
RULES = {
    "rules": [
        {
            "principals": {"usernames": ["sensor-1"]},
            "brokerResources": [
                {"method": "Connect"},
                {"method": "Publish", "topics": ["sensors/{principal.username}/#"]},
            ],
        }
    ]
}


# --- models ----------------------------------------------------------------------------------


def problems(model: type[Any], data: dict[str, Any], prefix: str) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return [str(p) for p in problems_from_validation(caught.value, model, prefix)]


def test_authentication_spec_as_the_cr_spells_it_with_defaults() -> None:
    args = MqAuthenticationArgs.model_validate(
        {
            "name": "edge-authn",
            "listenerRef": ["edge"],
            "authenticationMethods": [
                SAT,
                {"x509": {"attributes": {"secretName": "x509-attrs"}}},
                {"usernamePassword": {"secretName": "passwords"}},
                {
                    "custom": {
                        "endpoint": "https://auth.example.com:8443/check",
                        "caCert": "auth-ca",
                        "auth": {"x509": {"secretName": "broker-client"}},
                        "headers": {"x-site": "plant-1"},
                    }
                },
            ],
        }
    )
    assert args.spec() == {
        "listenerRef": ["edge"],
        "authenticationMethods": [
            SAT,
            {
                "x509": {
                    "trustedClientCaCert": "client-ca",
                    "attributes": {"secretName": "x509-attrs"},
                }
            },
            {"usernamePassword": {"secretName": "passwords"}},
            {
                "custom": {
                    "endpoint": "https://auth.example.com:8443/check",
                    "caCert": "auth-ca",
                    "auth": {"x509": {"secretName": "broker-client"}},
                    "headers": {"x-site": "plant-1"},
                }
            },
        ],
    }


def test_authorization_spec_writes_enable_cache() -> None:
    args = MqAuthorizationArgs.model_validate(
        {"name": "z", "listenerRef": ["edge"], "authorizationPolicies": RULES}
    )
    policies = args.spec()["authorizationPolicies"]
    assert policies["enableCache"] is False
    assert policies["rules"][0]["brokerResources"][1] == {
        "method": "Publish",
        "topics": ["sensors/{principal.username}/#"],
    }


def test_check7_shape_errors_of_an_authentication_come_together() -> None:
    found = problems(
        MqAuthenticationArgs,
        {
            "name": "a",
            "listenerRef": [],
            "authenticationMethods": [
                {"sat": {"audiences": []}, "x509": {}},
                {"custom": {"endpoint": "http://auth.example.com"}},
                {"stat": {"audiences": ["a"]}},
            ],
        },
        "authentications[0]",
    )
    assert found == [
        "authentications[0].listenerRef: is empty; at least one entry is needed\n"
        "      fix: add an entry here",
        "authentications[0].authenticationMethods[0].sat.audiences: is empty; at least one "
        "entry is needed\n      fix: add an entry here",
        "authentications[0].authenticationMethods[0]: needs exactly one of sat, "
        "usernamePassword, x509, custom, found sat, x509\n"
        "      fix: give each item of authenticationMethods one method (a list item per method)",
        "authentications[0].authenticationMethods[1].custom.endpoint: 'http://auth.example.com' "
        "is not an https URL\n      fix: write the auth server's address as "
        "https://host[:port][/path]; the broker sends credentials to it, so only https is "
        "accepted",
        "authentications[0].authenticationMethods[2].stat: unknown key 'stat'\n"
        "      fix: did you mean 'sat'? (keys accepted here: sat, usernamePassword, x509, custom)",
        "authentications[0].authenticationMethods[2]: needs exactly one of sat, "
        "usernamePassword, x509, custom, found none\n"
        "      fix: give each item of authenticationMethods one method (a list item per method)",
    ]


def test_check7_shape_errors_of_an_authorization() -> None:
    found = problems(
        MqAuthorizationArgs,
        {
            "name": "z",
            "listenerRef": ["edge", "edge"],
            "authorizationPolicies": {
                "enableCache": "yes",
                "rules": [
                    {
                        "principals": {},
                        "brokerResources": [
                            {"method": "publish", "topics": ["a"]},
                            {"method": "Subscribe"},
                            {"method": "Publish", "topics": ["a/#/b"]},
                        ],
                    },
                    {"principals": {"usernames": ["u"]}, "brokerResources": []},
                ],
            },
        },
        "authorizations[0]",
    )
    rules = "authorizations[0].authorizationPolicies.rules"
    assert found == [
        "authorizations[0].listenerRef: 'edge' listed more than once\n"
        "      fix: list each listener once",
        "authorizations[0].authorizationPolicies.enableCache: 'yes' is not a boolean\n"
        "      fix: write true or false, without quotes",
        f"{rules}[0].principals: names no principal, so the rule applies to no client\n"
        "      fix: list clientids, usernames, or attributes maps (e.g. - {group: sensors})",
        f"{rules}[0].brokerResources[0].method: 'publish' is not accepted\n"
        "      fix: did you mean 'Publish'? use one of Connect, Publish, Subscribe (spelled "
        "exactly so: values are case-sensitive)",
        f"{rules}[0].brokerResources[1]: Subscribe needs topics\n"
        "      fix: list the topic filters this rule allows to subscribe, e.g. topics: "
        "[sensors/{principal.username}/#]",
        f"{rules}[0].brokerResources[2].topics[0]: 'a/#/b' is not an MQTT topic filter\n"
        "      fix: use '/'-separated levels; '+' stands for one whole level and '#' only for "
        "the whole last level (e.g. sensors/+/temperature, sensors/#)",
        f"{rules}[1].brokerResources: is empty; at least one entry is needed\n"
        "      fix: add an entry here",
    ]


def test_username_password_from_key_vault() -> None:
    vault = {
        "vault": {
            "name": "kv-aio",
            "directoryId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "credentials": {"servicePrincipalLocalSecretName": "aio-akv-sp"},
        },
        "vaultSecret": {"name": "mq-passwords"},
    }
    args = MqAuthenticationArgs.model_validate(
        {
            "name": "a",
            "listenerRef": ["l"],
            "authenticationMethods": [{"usernamePassword": {"keyVault": vault}}],
        }
    )
    assert args.spec()["authenticationMethods"][0]["usernamePassword"]["keyVault"] == vault


# --- the components in a composition ---------------------------------------------------------


def test_composition_registers_the_crs_and_orders_the_listener_after_them(
    engine: Engine,
) -> None:
    def program() -> Any:
        # The listener comes first in the program, and is still created after its objects.
        edge = MqListener(
            "edge",
            {
                "name": "edge",
                "port": 8884,
                "authenticationEnabled": True,
                "authorizationEnabled": True,
                "tls": TLS,
            },
        )
        MqAuthentication(
            "edge-authn",
            {"name": "edge-authn", "listenerRef": ["edge"], "authenticationMethods": [SAT]},
        )
        MqAuthorization(
            "edge-authz",
            MqAuthorizationArgs.model_validate(
                {"name": "edge-authz", "listenerRef": ["edge"], "authorizationPolicies": RULES}
            ),
        )
        return edge.summary

    summary = engine.run(program)
    assert (summary["authentication"], summary["authorization"]) == ("edge-authn", "edge-authz")
    types = [r.typ for r in engine.mocks.registered if r.custom]
    assert types.index(AUTHENTICATION) < types.index(LISTENER)
    assert types.index(AUTHORIZATION) < types.index(LISTENER)
    (authn,) = engine.mocks.of_type(AUTHENTICATION)
    assert authn.inputs["metadata"] == {
        "name": "edge-authn",
        "namespace": "azure-iot-operations",
        **MARK,
    }
    assert authn.inputs["spec"] == {"listenerRef": ["edge"], "authenticationMethods": [SAT]}
    assert [c.name for c in engine.mocks.of_type("aio:mq:MqAuthentication")] == ["edge-authn"]


def test_composition_with_a_broken_link_registers_nothing(engine: Engine) -> None:
    def program() -> None:
        MqListener("edge", {"name": "edge", "port": 8884, "authenticationEnabled": True})
        MqAuthentication(
            "certs",
            {
                "name": "certs",
                "listenerRef": ["edge"],
                "authenticationMethods": [{"x509": {}}],
            },
        )

    with pytest.raises(ConfigError) as caught:
        engine.run(program)
    assert engine.mocks.registered == []
    assert str(caught.value).startswith(
        "aio-mq: the authentication and authorization of the listeners has 1 problem; "
        "no resource was registered.\n"
        "  - MqAuthentication('certs').authenticationMethods[0].x509: BrokerAuthentication "
        "'certs' (MqAuthentication('certs')) has an x509 method and lists listener 'edge' "
        "(MqListener('edge')), which has no TLS"
    )


def test_composition_existing_objects_are_declared_once(engine: Engine) -> None:
    def program() -> Any:
        declare_existing_auth([{"name": "site", "listenerRef": ["edge"]}], [])
        edge = MqListener("edge", {"name": "edge", "port": 8884, "authenticationEnabled": True})
        return edge.authentication

    assert engine.run(program) == "site"


def test_composition_default_authn_serves_a_taken_over_default_listener(engine: Engine) -> None:
    def program() -> Any:
        declare_existing_listeners([])
        listener = MqListener(
            "listener",
            {"name": "listener", "port": 8883, "authenticationEnabled": True, "tls": TLS},
        )
        return listener.authentication

    assert engine.run(program) == "authn"


# --- the stack program -----------------------------------------------------------------------


@pytest.fixture
def on_cluster(cluster: FakeCluster) -> FakeCluster:
    """A fresh install (in memory) with the Issuer the TLS listeners here name."""
    return cluster.issuer("ca", "azure-iot-operations")


def stack(**extra: Any) -> dict[str, Any]:
    return {
        "listeners": [
            {
                "name": "edge",
                "port": 8884,
                "serviceType": "loadBalancer",
                "serviceName": "mq-edge",
                "authenticationEnabled": True,
                "authorizationEnabled": True,
                "tls": TLS,
            },
            {"name": "plain", "port": 1883},
        ],
        "authentications": [
            {"name": "edge-authn", "listenerRef": ["edge"], "authenticationMethods": [SAT]}
        ],
        "authorizations": [
            {"name": "edge-authz", "listenerRef": ["edge"], "authorizationPolicies": RULES}
        ],
        **extra,
    }


@pytest.mark.usefixtures("on_cluster")
def test_stack_creates_both_kinds_and_exports_the_links(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.configure(stack())
    exports = run_main(engine, monkeypatch)
    listeners = exports["listeners"]
    assert (listeners["edge"]["authentication"], listeners["edge"]["authorization"]) == (
        "edge-authn",
        "edge-authz",
    )
    assert (listeners["plain"]["authentication"], listeners["plain"]["authorization"]) == (
        None,
        None,
    )
    (authz,) = engine.mocks.of_type(AUTHORIZATION)
    assert authz.name == "edge-authz"
    assert authz.inputs["spec"]["authorizationPolicies"]["enableCache"] is False
    # Only the linked listener waits for its authorization; 'plain' may come first.
    order = [(r.typ, r.name) for r in engine.mocks.registered if r.custom]
    assert order.index((AUTHORIZATION, "edge-authz")) < order.index((LISTENER, "edge"))


def test_stack_namespaces_default_and_qualify_resource_names(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, on_cluster: FakeCluster
) -> None:
    on_cluster.namespace("mq").broker("mq").issuer("ca", "mq").namespace("other").broker("other")
    config = stack(namespace="mq")
    config["listeners"].append(
        {"name": "edge2", "port": 8885, "namespace": "other", "authenticationEnabled": True}
    )
    config["authentications"].append(
        {
            "name": "edge-authn",
            "namespace": "other",
            "listenerRef": ["edge2"],
            "authenticationMethods": [SAT],
        }
    )
    engine.configure(config)
    exports = run_main(engine, monkeypatch)
    found = {
        (r.name, r.inputs["metadata"]["namespace"]) for r in engine.mocks.of_type(AUTHENTICATION)
    }
    # The same name in two namespaces: two Pulumi names, the stack's namespace unqualified.
    assert found == {("edge-authn", "mq"), ("other/edge-authn", "other")}
    assert exports["listeners"]["edge2"]["authentication"] == "edge-authn"


@pytest.mark.usefixtures("on_cluster")
def test_stack_link_problems_come_with_the_other_problems(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = stack()
    config["listeners"].append(
        {"name": "dup", "port": 8884, "authenticationEnabled": True, "authorizationEnabled": True}
    )
    config["authentications"][0]["listenerRef"] = ["edg"]
    message = refused(engine, monkeypatch, config)
    assert "the configuration has 5 problems" in message
    assert "Ports: listeners[2] 'dup'" in message
    assert (
        "  - authentications[0].listenerRef[0]: 'edg' names no listener in namespace "
        "'azure-iot-operations'\n      fix: did you mean 'edge'?"
    ) in message
    assert "  - listeners[0].authenticationEnabled: authentication is enabled, but no " in message
    assert "  - listeners[2].authenticationEnabled: " in message
    assert "  - listeners[2].authorizationEnabled: authorizationEnabled is true, but no " in message


@pytest.mark.usefixtures("on_cluster")
def test_stack_existing_keys(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    config = stack(
        existingAuthentications=[{"name": "site", "listenerRef": ["edge"]}],
        existingAuthorizations=[{"name": "site-z", "listenerRef": ["edge"]}],
    )
    message = refused(engine, monkeypatch, config)
    assert "listed by 2 BrokerAuthentications: BrokerAuthentication 'site' " in message
    assert "(existingAuthentications[0]), BrokerAuthentication 'edge-authn' " in message
    assert "listed by 2 BrokerAuthorizations" in message


@pytest.mark.usefixtures("on_cluster")
def test_stack_warns_of_links_without_effect(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **k: warnings.append(message))
    config = stack()
    config["authentications"][0]["listenerRef"] = ["edge", "plain"]
    engine.configure(config)
    run_main(engine, monkeypatch)
    assert warnings == [
        "aio-mq: authentications[0].listenerRef[1]: BrokerAuthentication 'edge-authn' "
        "(authentications[0]) lists listener 'plain' (listeners[1]), whose "
        "authenticationEnabled is false: the link has no effect and any client connects\n"
        "      fix: set authenticationEnabled: true on 'plain', or remove it from the listenerRef"
    ]
    assert engine.mocks.of_type(AUTHENTICATION)
