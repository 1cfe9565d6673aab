"""The GA CRDs in crds/v1/ (written from the fact sheet for the local API server) accept what
aio-mq writes and refuse the shapes the API refuses."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from tests.conftest import Engine
from tests.test_stack import ROOT, run_main, stack_config

GROUP = "mqttbroker.iotoperations.azure.com"
CRDS = {
    crd["spec"]["names"]["kind"]: crd
    for crd in (
        yaml.safe_load(p.read_text()) for p in sorted((ROOT / "crds" / "v1").glob("*.yaml"))
    )
}


def validator(kind: str) -> Draft202012Validator:
    (version,) = CRDS[kind]["spec"]["versions"]
    return Draft202012Validator(version["schema"]["openAPIV3Schema"])


def test_one_crd_per_ga_kind_in_the_ga_group() -> None:
    assert sorted(CRDS) == [
        "Broker",
        "BrokerAuthentication",
        "BrokerAuthorization",
        "BrokerListener",
    ]
    for kind, crd in CRDS.items():
        assert crd["spec"]["group"] == GROUP
        assert crd["metadata"]["name"] == f"{crd['spec']['names']['plural']}.{GROUP}"
        (version,) = crd["spec"]["versions"]
        assert (version["name"], version["served"], version["storage"]) == ("v1", True, True), kind


def test_what_the_ga_stacks_register_is_valid_for_the_crds(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.configure(stack_config(ROOT / "stacks" / "Pulumi.dev-ga.yaml"))
    run_main(engine, monkeypatch)
    checked = 0
    for resource in engine.mocks.registered:
        if not resource.typ.startswith(f"kubernetes:{GROUP}/v1:"):
            continue
        kind = resource.typ.rsplit(":", 1)[1]
        document = {k: resource.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec")}
        assert list(validator(kind).iter_errors(document)) == [], resource.name
        checked += 1
    assert checked == 4


def listener(**port: Any) -> dict[str, Any]:
    return {"spec": {"ports": [{"port": 1883, **port}]}}


@pytest.mark.parametrize(
    "document",
    [
        {"spec": {"ports": []}},
        listener(port=70000),
        listener(protocol="Http"),
        listener(tls={"mode": "Automatic"}),
        listener(
            tls={
                "mode": "Automatic",
                "certManagerCertificateSpec": {"issuerRef": {"name": "a", "kind": "Issuer"}},
                "manual": {"secretRef": "s"},
            }
        ),
        listener(
            tls={
                "mode": "Automatic",
                "certManagerCertificateSpec": {
                    "issuerRef": {"name": "a", "kind": "Issuer"},
                    "privateKey": {"algorithm": "ECDSA", "rotationPolicy": "Always"},
                },
            }
        ),
        {"spec": {"serviceType": "ClusterIP", "ports": [{"port": 1}]}},
    ],
    ids=[
        "no ports",
        "port out of range",
        "unknown protocol",
        "tls without a block",
        "tls with two blocks",
        "preview key algorithm",
        "ClusterIP spelling",
    ],
)
def test_the_listener_crd_refuses_wrong_shapes(document: dict[str, Any]) -> None:
    assert list(validator("BrokerListener").iter_errors(document))


def test_the_authentication_crd_has_no_username_password() -> None:
    document = {"spec": {"authenticationMethods": [{"method": "UsernamePassword"}]}}
    assert list(validator("BrokerAuthentication").iter_errors(document))
