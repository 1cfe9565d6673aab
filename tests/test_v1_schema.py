"""The stack-file schema picks the key shapes by aio-mq:apiVersion, as the program does."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from components import ConfigError
from components.stack import validate_config
from tests.test_schema import VALIDATOR

GA = "mqttbroker.iotoperations.azure.com/v1"
GOOD: dict[str, Any] = {
    "config": {
        "aio-mq:apiVersion": GA,
        "aio-mq:listeners": [
            {
                "name": "edge",
                "serviceType": "loadBalancer",
                "ports": [
                    {"port": 8884, "authenticationRef": "default", "protocol": "WebSockets"},
                    {
                        "port": 8885,
                        "tls": {
                            "mode": "Manual",
                            "manual": {"secretRef": "s", "privateKey": {"secure": "v1:x"}},
                        },
                    },
                ],
            }
        ],
    }
}


def with_port(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(GOOD)
    doc["config"]["aio-mq:listeners"][0]["ports"][0].update(changes)
    return doc


def keys(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        k.removeprefix("aio-mq:"): v for k, v in doc["config"].items() if k.startswith("aio-mq:")
    }


def test_a_ga_file_validates_with_lower_camel_spellings_and_secure_values() -> None:
    assert list(VALIDATOR.iter_errors(GOOD)) == []
    Draft202012Validator.check_schema(VALIDATOR.schema)


def ga_listener(**fields: Any) -> dict[str, Any]:
    listener = {"name": "x", "ports": [{"port": 1}], **fields}
    return {"config": {"aio-mq:apiVersion": GA, "aio-mq:listeners": [listener]}}


def ga_authorization(resource: dict[str, Any]) -> dict[str, Any]:
    rule = {"principals": {"usernames": ["u"]}, "brokerResources": [resource]}
    authorization = {"name": "z", "authorizationPolicies": {"rules": [rule]}}
    return {"config": {"aio-mq:apiVersion": GA, "aio-mq:authorizations": [authorization]}}


BAD = {
    "ClusterIP spelling": ga_listener(serviceType="ClusterIP"),
    "preview listener shape under GA": {
        "config": {"aio-mq:apiVersion": GA, "aio-mq:listeners": [{"name": "x", "port": 1}]}
    },
    "GA listener shape under the preview API": {
        "config": {"aio-mq:listeners": [{"name": "x", "ports": [{"port": 1}]}]}
    },
    "no ports": ga_listener(ports=[]),
    "Service takes a digit-first name": ga_listener(name="1x"),
    "topic filter with # inside": ga_authorization({"method": "Publish", "topics": ["a/#/b"]}),
    "digit-first serviceName": ga_listener(serviceName="9svc"),
    "publish without topics, in lower camel": ga_authorization({"method": "publish"}),
    "authorizationRef alone": ga_listener(ports=[{"port": 1, "authorizationRef": "z"}]),
    "two TLS blocks": with_port(
        tls={
            "mode": "Manual",
            "manual": {"secretRef": "s"},
            "certManagerCertificateSpec": {"issuerRef": {"name": "i"}},
        }
    ),
    "unknown apiVersion": {
        "config": {"aio-mq:apiVersion": "mqttbroker.iotoperations.azure.com/v1beta1"}
    },
    "preview authentication shape under GA": {
        "config": {
            "aio-mq:apiVersion": GA,
            "aio-mq:authentications": [
                {
                    "name": "a",
                    "listenerRef": ["x"],
                    "authenticationMethods": [{"sat": {"audiences": ["a"]}}],
                }
            ],
        }
    },
}


@pytest.mark.parametrize("doc", BAD.values(), ids=BAD.keys())
def test_wrong_ga_files_fail_the_schema_and_the_program_alike(doc: dict[str, Any]) -> None:
    assert list(VALIDATOR.iter_errors(doc)), "the schema accepted it"
    with pytest.raises(ConfigError):
        validate_config(keys(doc))
