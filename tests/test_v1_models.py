"""GA models (components/v1/models.py, components/v1/auth.py): shapes, defaults written out,
PascalCase spellings, and the one-object rules with their key paths and fixes."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from components.errors import Problem, problems_from_validation
from components.v1.auth import (
    DEFAULT_AUTHENTICATION,
    BrokerAuthenticationArgs,
    BrokerAuthorizationArgs,
)
from components.v1.models import DEFAULT_LISTENER, MqListenerV1Args
from tests.fake_cluster import GA_DEFAULT_PORT

AUTOMATIC = {"mode": "Automatic", "certManagerCertificateSpec": {"issuerRef": {"name": "ca"}}}


def problems(model: type[BaseModel], data: dict[str, Any]) -> list[Problem]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return problems_from_validation(caught.value, model, "listeners[0]")


def listener(**fields: Any) -> dict[str, Any]:
    return {"name": "edge", "ports": [{"port": 8884}], **fields}


def test_minimal_listener_spec_writes_every_default() -> None:
    args = MqListenerV1Args.model_validate(listener()).resolved("ns", "default")
    assert args.spec() == {
        "brokerRef": "default",
        "serviceType": "ClusterIp",
        "serviceName": "edge",
        "ports": [{"port": 8884, "protocol": "Mqtt"}],
    }


def test_certificate_spec_writes_issuer_kind_group_and_both_san_lists() -> None:
    tls = {
        "mode": "Automatic",
        "certManagerCertificateSpec": {"issuerRef": {"name": "ca"}, "san": {"dns": ["a.b"]}},
    }
    spec = MqListenerV1Args.model_validate(listener(ports=[{"port": 1, "tls": tls}])).spec()
    assert spec["ports"][0]["tls"] == {
        "mode": "Automatic",
        "certManagerCertificateSpec": {
            "issuerRef": {"name": "ca", "kind": "Issuer", "group": "cert-manager.io"},
            "san": {"dns": ["a.b"], "ip": []},
        },
    }


def test_lower_camel_spellings_are_read_and_written_in_pascal_case() -> None:
    tls = {
        "mode": "automatic",
        "certManagerCertificateSpec": {
            "issuerRef": {"name": "ca"},
            "privateKey": {"algorithm": "rsa4096", "rotationPolicy": "never"},
        },
    }
    args = MqListenerV1Args.model_validate(
        listener(
            serviceType="nodePort",
            ports=[{"port": 1, "nodePort": 30001, "protocol": "webSockets", "tls": tls}],
        )
    )
    spec = args.spec()
    assert spec["serviceType"] == "NodePort"
    port = spec["ports"][0]
    assert port["protocol"] == "WebSockets"
    assert port["tls"]["mode"] == "Automatic"
    assert port["tls"]["certManagerCertificateSpec"]["privateKey"] == {
        "algorithm": "Rsa4096",
        "rotationPolicy": "Never",
    }


def test_kubernetes_spelling_of_cluster_ip_gets_a_did_you_mean() -> None:
    (problem,) = problems(MqListenerV1Args, listener(serviceType="ClusterIP"))
    assert problem.path == "listeners[0].serviceType"
    assert problem.message == "'ClusterIP' is not accepted"
    assert problem.fix is not None and problem.fix.startswith("did you mean 'ClusterIp'?")


def test_ports_are_required_and_not_empty() -> None:
    (missing,) = problems(MqListenerV1Args, {"name": "edge"})
    assert (missing.path, missing.message) == ("listeners[0].ports", "required key is missing")
    (empty,) = problems(MqListenerV1Args, listener(ports=[]))
    assert empty.path == "listeners[0].ports"


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_port_out_of_range(port: int) -> None:
    (problem,) = problems(MqListenerV1Args, listener(ports=[{"port": port}]))
    assert problem.path == "listeners[0].ports[0].port"
    assert problem.message == f"{port} is not a TCP port"


def test_node_port_only_on_a_node_port_listener() -> None:
    (problem,) = problems(
        MqListenerV1Args,
        listener(serviceType="LoadBalancer", ports=[{"port": 1}, {"port": 2, "nodePort": 30002}]),
    )
    assert problem.path == "listeners[0]"
    assert problem.message == "ports[1].nodePort is set but serviceType is LoadBalancer"
    assert problem.fix == "set serviceType: NodePort, or remove nodePort"


@pytest.mark.parametrize("node_port", [29999, 32768, 80])
def test_node_port_outside_the_node_port_range(node_port: int) -> None:
    (problem,) = problems(
        MqListenerV1Args,
        listener(serviceType="NodePort", ports=[{"port": 1, "nodePort": node_port}]),
    )
    assert problem.path == "listeners[0].ports[0]"
    assert problem.message == f"nodePort {node_port} is outside the node-port range 30000-32767"


def test_node_port_range_edges_are_accepted() -> None:
    MqListenerV1Args.model_validate(
        listener(
            serviceType="NodePort",
            ports=[{"port": 1, "nodePort": 30000}, {"port": 2, "nodePort": 32767}],
        )
    )


def test_tls_mode_must_agree_with_its_block() -> None:
    tls = {"mode": "Manual", "certManagerCertificateSpec": {"issuerRef": {"name": "ca"}}}
    (problem,) = problems(MqListenerV1Args, listener(ports=[{"port": 1, "tls": tls}]))
    assert problem.path == "listeners[0].ports[0].tls"
    assert problem.message == "mode Manual does not match the certManagerCertificateSpec block"
    assert problem.fix == "set mode: Automatic"


def test_tls_needs_exactly_one_block() -> None:
    both = {**AUTOMATIC, "manual": {"secretRef": "s"}}
    (two,) = problems(MqListenerV1Args, listener(ports=[{"port": 1, "tls": both}]))
    assert two.message == (
        "needs exactly one of certManagerCertificateSpec, manual, found "
        "certManagerCertificateSpec, manual"
    )
    (none,) = problems(MqListenerV1Args, listener(ports=[{"port": 1, "tls": {"mode": "Manual"}}]))
    assert none.message.endswith("found none")


def test_tls_mode_is_required() -> None:
    tls = {"manual": {"secretRef": "s"}}
    (problem,) = problems(MqListenerV1Args, listener(ports=[{"port": 1, "tls": tls}]))
    assert (problem.path, problem.message) == (
        "listeners[0].ports[0].tls.mode",
        "required key is missing",
    )


def test_authorization_ref_without_authentication_ref_is_refused() -> None:
    (problem,) = problems(
        MqListenerV1Args, listener(ports=[{"port": 1, "authorizationRef": "rules"}])
    )
    assert problem.path == "listeners[0].ports[0]"
    assert (
        problem.message
        == "authorizationRef 'rules' has no effect: the port has no authenticationRef"
    )
    assert problem.fix == "add an authenticationRef to this port, or remove authorizationRef"


def test_renew_before_must_be_shorter_than_duration() -> None:
    spec = {"issuerRef": {"name": "ca"}, "duration": "24h", "renewBefore": "48h"}
    tls = {"mode": "Automatic", "certManagerCertificateSpec": spec}
    (problem,) = problems(MqListenerV1Args, listener(ports=[{"port": 1, "tls": tls}]))
    assert problem.path == "listeners[0].ports[0].tls.certManagerCertificateSpec"
    assert problem.message == "renewBefore (48h) is not shorter than duration (24h)"


def test_secret_namespace_is_gone_in_ga() -> None:
    tls = {"mode": "Manual", "manual": {"secretRef": "s", "secretNamespace": "other"}}
    (problem,) = problems(MqListenerV1Args, listener(ports=[{"port": 1, "tls": tls}]))
    assert problem.path == "listeners[0].ports[0].tls.manual.secretNamespace"
    assert problem.message == "unknown key 'secretNamespace'"


def test_manual_material_comes_in_pairs_and_is_not_a_cr_field() -> None:
    tls = {"mode": "Manual", "manual": {"secretRef": "s", "certificate": "PEM"}}
    (problem,) = problems(MqListenerV1Args, listener(ports=[{"port": 1, "tls": tls}]))
    assert problem.message == "certificate and privateKey go together; privateKey is missing"
    tls["manual"]["privateKey"] = "KEY"  # type: ignore[index]
    spec = MqListenerV1Args.model_validate(listener(ports=[{"port": 1, "tls": tls}])).spec()
    assert spec["ports"][0]["tls"] == {"mode": "Manual", "manual": {"secretRef": "s"}}


def test_unknown_port_key_gets_a_suggestion() -> None:
    (problem,) = problems(MqListenerV1Args, listener(ports=[{"port": 1, "authenticationREf": "a"}]))
    assert problem.path == "listeners[0].ports[0].authenticationREf"
    assert problem.fix is not None and problem.fix.startswith("did you mean 'authenticationRef'?")


def test_default_listener_is_what_azure_iot_operations_installs() -> None:
    assert DEFAULT_LISTENER.spec() == {
        "brokerRef": "default",
        "serviceType": "ClusterIp",
        "serviceName": "aio-broker",
        "ports": [GA_DEFAULT_PORT],
    }


# --- authentication and authorization ------------------------------------------------------


def test_default_authentication_is_service_account_tokens_for_aio_internal() -> None:
    assert DEFAULT_AUTHENTICATION.spec() == {
        "authenticationMethods": [
            {
                "method": "ServiceAccountToken",
                "serviceAccountTokenSettings": {"audiences": ["aio-internal"]},
            }
        ]
    }


def test_x509_settings_default_to_the_client_ca_config_map() -> None:
    args = BrokerAuthenticationArgs.model_validate(
        {"name": "a", "authenticationMethods": [{"method": "X509", "x509Settings": {}}]}
    )
    assert args.spec()["authenticationMethods"][0]["x509Settings"] == {
        "trustedClientCaCert": "client-ca",
        "authorizationAttributes": {},
    }


def test_method_takes_its_own_settings_block() -> None:
    data = {
        "name": "a",
        "authenticationMethods": [
            {"method": "ServiceAccountToken", "x509Settings": {}},
            {"method": "Custom"},
        ],
    }
    first, second = problems(BrokerAuthenticationArgs, data)
    assert first.path == "listeners[0].authenticationMethods[0]"
    assert (
        first.message
        == "method ServiceAccountToken takes serviceAccountTokenSettings, found x509Settings"
    )
    assert first.fix == "give serviceAccountTokenSettings and no other settings block"
    assert second.message == "method Custom takes customSettings, found no settings"


def test_there_is_no_username_password_method_in_ga() -> None:
    (problem,) = problems(
        BrokerAuthenticationArgs,
        {"name": "a", "authenticationMethods": [{"method": "UsernamePassword"}]},
    )
    assert problem.path == "listeners[0].authenticationMethods[0].method"
    assert problem.message == "'UsernamePassword' is not accepted"


def test_custom_endpoint_must_be_https() -> None:
    data = {
        "name": "a",
        "authenticationMethods": [
            {"method": "Custom", "customSettings": {"endpoint": "http://auth.example.com"}}
        ],
    }
    (problem,) = problems(BrokerAuthenticationArgs, data)
    assert problem.path == "listeners[0].authenticationMethods[0].customSettings.endpoint"
    assert problem.message == "'http://auth.example.com' is not an https URL"


def test_audiences_are_not_empty() -> None:
    data = {
        "name": "a",
        "authenticationMethods": [
            {"method": "ServiceAccountToken", "serviceAccountTokenSettings": {"audiences": []}}
        ],
    }
    (problem,) = problems(BrokerAuthenticationArgs, data)
    assert problem.path.endswith("serviceAccountTokenSettings.audiences")


def test_authorization_defaults_cache_enabled_and_publish_needs_topics() -> None:
    args = BrokerAuthorizationArgs.model_validate({"name": "z"})
    assert args.spec() == {"authorizationPolicies": {"cache": "Enabled", "rules": []}}
    data = {
        "name": "z",
        "authorizationPolicies": {
            "cache": "disabled",
            "rules": [
                {"principals": {"usernames": ["u"]}, "brokerResources": [{"method": "publish"}]}
            ],
        },
    }
    (problem,) = problems(BrokerAuthorizationArgs, data)
    assert problem.path == "listeners[0].authorizationPolicies.rules[0].brokerResources[0]"
    assert problem.message == "Publish needs topics"
