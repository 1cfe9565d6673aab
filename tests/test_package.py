"""The component package (components/package.py) under mocks: inputs as the engine sends them,
the same checks and resources as the stack program, and the schema it infers."""

from __future__ import annotations

import asyncio
import json
import re
import typing
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.output import Output, Unknown, _OutputData

from components import ConfigError
from components.config import RENDER_OVERRIDE_ENV
from components.issuer import IssuerArgs
from components.package import (
    PACKAGE,
    AuthenticationMethodKind,
    AuthorizationCache,
    BrokerMethod,
    IssuerKind,
    KeyAlgorithm,
    KeyAlgorithmV1,
    MqListener,
    MqListenerSet,
    MqListenerSetV1,
    MqListenerV1,
    Protocol,
    RotationPolicy,
    ServiceType,
    ServiceTypeV1,
    StateStoreKeyType,
    StateStoreMethod,
    TlsMode,
    _Inputs,
    _Provider,
)
from components.stack import deploy, load_config
from components.v1 import auth as v1_auth
from components.v1 import models as v1_models
from components.v1beta1 import auth, models
from tests.conftest import Engine
from tests.pki import tls_pair
from tests.test_stack import stack_config

ROOT = Path(__file__).resolve().parent.parent


def engine_output(value: Any, *, secret: bool = False, known: bool = True) -> Output[Any]:
    """An Output as the provider server makes one for a construct input."""
    data: asyncio.Future[_OutputData[Any]] = asyncio.Future()
    data.set_result(_OutputData(resources=set(), value=value, is_known=known, is_secret=secret))
    return Output._from_data(data)


@pytest.fixture(autouse=True)
def _stack_program_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stack program these tests compare a set with renders: like the set, which cannot read
    its consumer's cluster, it then assumes the existing* keys instead of reading a cluster."""
    monkeypatch.setenv(RENDER_OVERRIDE_ENV, "rendered/test")


def fresh_program(engine: Engine) -> None:
    """A new engine connection, as each construct call of the plugin gets: a new registry."""
    engine.mocks.registered.clear()
    pulumi.runtime.set_mocks(engine.mocks, project="aio-mq", stack="test", preview=False)


@pytest.mark.parametrize(
    ("enum", "literal"),
    [
        (ServiceType, models.ServiceType),
        (IssuerKind, typing.get_args(IssuerArgs.model_fields["kind"].annotation)),
        (KeyAlgorithm, models.CertPrivateKey.model_fields["algorithm"].annotation),
        (RotationPolicy, models.CertPrivateKey.model_fields["rotation_policy"].annotation),
        (BrokerMethod, auth.BrokerMethod),
        (ServiceTypeV1, v1_models.ServiceType),
        (Protocol, v1_models.Protocol),
        (TlsMode, v1_models.TlsMode),
        (KeyAlgorithmV1, v1_models.KeyAlgorithm),
        (RotationPolicy, v1_models.RotationPolicy),
        (AuthenticationMethodKind, v1_auth.Method),
        (BrokerMethod, v1_auth.BrokerResource.model_fields["method"].annotation),
        (StateStoreKeyType, v1_auth.StateStoreResource.model_fields["key_type"].annotation),
        (StateStoreMethod, v1_auth.StateStoreResource.model_fields["method"].annotation),
        (AuthorizationCache, v1_auth.AuthorizationPolicies.model_fields["cache"].annotation),
    ],
)
def test_enums_offer_exactly_the_values_the_models_accept(enum: Any, literal: Any) -> None:
    while typing.get_origin(literal) is typing.Annotated:  # GA: Annotated[Literal, PascalCase]
        literal = typing.get_args(literal)[0]
    values = literal if isinstance(literal, tuple) else typing.get_args(literal)
    assert [member.value for member in enum] == list(values)


def provider() -> _Provider:
    return _Provider([MqListener, MqListenerSet, MqListenerV1, MqListenerSetV1], PACKAGE)


def mapped(component: str, inputs: dict[str, Any]) -> Any:
    """`inputs` as the provider SDK hands them to the component: names mapped, enums members."""
    plugin = provider()
    return plugin.map_inputs(inputs, plugin._component_defs[component])


@pytest.mark.parametrize(
    ("component", "listener", "wrong"),
    [
        ("MqListenerSet", {"name": "a", "port": 1883}, "ClusterIP"),
        ("MqListenerSetV1", {"name": "a", "ports": [{"port": 1883}]}, "clusterIP"),
    ],
)
def test_a_wrong_case_enum_is_reported_with_the_other_problems(
    engine: Engine, component: str, listener: dict[str, Any], wrong: str
) -> None:
    # The SDK's input mapping refused such a value alone ("Invalid value ... for enum"),
    # before aio-mq saw the input.
    bad = {**listener, "serviceType": wrong, "name": "Bad_Name"}
    issuer = {"name": "ss", "kind": "Clusterissuer", "selfSigned": {}}
    args = mapped(component, {"listeners": [bad], "issuers": [issuer]})
    with pytest.raises(ConfigError) as caught:
        engine.run(
            lambda: {"MqListenerSet": MqListenerSet, "MqListenerSetV1": MqListenerSetV1}[component](
                "dev", args
            )
        )
    report = str(caught.value)
    assert f"{component} 'dev' has 3 problems" in report
    assert f"listeners[0].serviceType: {wrong!r} is not accepted" in report
    assert "listeners[0].name: 'Bad_Name' is not a DNS-1123 label" in report
    assert "issuers[0].kind: 'Clusterissuer' is not accepted" in report
    assert "fix: did you mean 'ClusterIssuer'?" in report
    assert report.count("fix:") == 3
    assert engine.mocks.registered == []


def test_inputs_become_what_the_models_take(engine: Engine) -> None:
    inputs = _Inputs("test")
    secret_tls = {"manual": {"secretName": "s", "privateKey": "k"}}
    raw = engine.run(
        lambda: inputs.plain(
            {
                "port": 1883.0,
                "serviceType": ServiceType.NODE_PORT,
                "tls": engine_output(secret_tls, secret=True),
            }
        )
    )
    assert raw == {"port": 1883, "serviceType": "nodePort", "tls": secret_tls}
    assert isinstance(raw["port"], int)
    assert inputs.is_secret("tls.manual.privateKey")
    assert not inputs.is_secret("port")
    assert inputs.problems == []


def test_values_unknown_at_preview_are_problems_with_their_path(engine: Engine) -> None:
    inputs = _Inputs("MqListener 'x'")
    unknown = Unknown()  # type: ignore[no-untyped-call]
    engine.run(lambda: inputs.plain({"port": engine_output(None, known=False), "tls": unknown}))
    with pytest.raises(ConfigError) as caught:
        inputs.raise_problems()
    assert [p.path for p in caught.value.problems] == ["port", "tls"]
    assert "is not known before the deployment runs" in str(caught.value)


def kubernetes_objects(engine: Engine) -> list[tuple[str, str, Any]]:
    """Registered Kubernetes objects (not the provider): type, name and inputs, sorted."""
    return sorted(
        ((r.typ, r.name, r.inputs) for r in engine.mocks.registered if r.custom),
        key=lambda item: (item[0], item[1]),
    )


def test_a_set_registers_what_the_stack_program_registers(engine: Engine) -> None:
    config = stack_config(ROOT / "stacks" / "Pulumi.dev.yaml")
    del config["kubernetes"]
    engine.run(lambda: deploy(load_config(config)))
    from_stack = [o for o in kubernetes_objects(engine) if o[0] != "pulumi:providers:kubernetes"]
    fresh_program(engine)

    summaries: Any = engine.run(lambda: MqListenerSet("dev", config).listeners)  # type: ignore[arg-type]
    assert kubernetes_objects(engine) == from_stack
    assert {typ for typ, _, _ in from_stack} >= {
        "kubernetes:mq.iotoperations.azure.com/v1beta1:BrokerListener",
        "kubernetes:cert-manager.io/v1:Issuer",
    }
    assert sorted(summaries) == sorted(item["name"] for item in config["listeners"])
    parents = {r.name: r for r in engine.mocks.registered}
    assert parents["dev"].typ == "aio-mq:index:MqListenerSet"


def test_a_conflict_in_a_set_is_reported_like_the_stack_file_and_registers_nothing(
    engine: Engine,
) -> None:
    config = {"listeners": [{"name": "a", "port": 1883, "serviceName": "my-service"}]}
    with pytest.raises(ConfigError) as from_stack:
        engine.run(lambda: deploy(load_config(config)))
    fresh_program(engine)

    with pytest.raises(ConfigError) as from_set:
        engine.run(lambda: MqListenerSet("dev", config))  # type: ignore[arg-type]
    assert from_set.value.problems == from_stack.value.problems
    assert str(from_set.value).startswith("aio-mq: MqListenerSet 'dev' has 1 problem;")
    assert engine.mocks.registered == []


def test_a_private_key_that_is_not_a_secret_is_refused(engine: Engine) -> None:
    cert, key = tls_pair()
    manual = {"secretName": "tls", "certificate": cert, "privateKey": key}
    listener: Any = {"name": "a", "port": 8885, "tls": {"manual": manual}}
    with pytest.raises(ConfigError) as caught:
        engine.run(lambda: MqListenerSet("dev", {"listeners": [listener]}))
    assert [p.path for p in caught.value.problems] == ["listeners[0].tls.manual.privateKey"]
    assert engine.mocks.registered == []

    secret_listeners: Any = engine_output([listener], secret=True)
    engine.run(lambda: MqListenerSet("ok", {"listeners": secret_listeners}))
    secret = engine.mocks.of_type("kubernetes:core/v1:Secret")[0]
    assert secret.inputs["metadata"]["name"] == "tls"


def test_single_listener_reports_problems_under_its_own_name(engine: Engine) -> None:
    with pytest.raises(ConfigError) as caught:
        engine.run(lambda: MqListener("x", {"name": "x", "port": 1883, "nodePort": 30000}))
    assert str(caught.value).startswith("aio-mq: MqListener 'x' has 1 problem;")
    assert "nodePort 30000 is set but serviceType is clusterIp" in str(caught.value)
    assert engine.mocks.registered == []


def test_single_listener_refuses_a_private_key_that_is_not_a_secret(engine: Engine) -> None:
    cert, key = tls_pair()
    args: Any = {
        "name": "a",
        "port": 8885,
        "tls": {"manual": {"secretName": "tls", "certificate": cert, "privateKey": key}},
    }
    with pytest.raises(ConfigError) as caught:
        engine.run(lambda: MqListener("a", args))
    assert [p.path for p in caught.value.problems] == ["tls.manual.privateKey"]
    assert engine.mocks.registered == []


def test_single_listener_registers_under_the_package_token(engine: Engine) -> None:
    host = engine.run(lambda: MqListener("x", {"name": "x", "port": 1884}).host)
    assert host == "aio-mq-dmqtt-frontend.azure-iot-operations.svc.cluster.local"
    assert [r.typ for r in engine.mocks.registered][:1] == ["aio-mq:index:MqListener"]


# --- GA ----------------------------------------------------------------------------------------


def test_a_ga_set_registers_what_the_ga_stack_program_registers(engine: Engine) -> None:
    config = stack_config(ROOT / "stacks" / "Pulumi.dev-ga.yaml")
    for key in ("kubernetes", "production"):
        del config[key]
    engine.run(lambda: deploy(load_config(config)))
    from_stack = [o for o in kubernetes_objects(engine) if o[0] != "pulumi:providers:kubernetes"]
    fresh_program(engine)

    del config["apiVersion"]
    summaries: Any = engine.run(lambda: MqListenerSetV1("dev", config).listeners)  # type: ignore[arg-type]
    assert kubernetes_objects(engine) == from_stack
    assert {typ for typ, _, _ in from_stack} >= {
        "kubernetes:mqttbroker.iotoperations.azure.com/v1:BrokerListener",
        "kubernetes:mqttbroker.iotoperations.azure.com/v1:BrokerAuthentication",
        "kubernetes:mqttbroker.iotoperations.azure.com/v1:BrokerAuthorization",
        "kubernetes:cert-manager.io/v1:Issuer",
    }
    assert sorted(summaries) == ["default", "dev-edge"]
    assert [p["port"] for p in summaries["dev-edge"]["ports"]] == [8884, 8443]
    parents = {r.name: r for r in engine.mocks.registered}
    assert parents["dev"].typ == "aio-mq:index:MqListenerSetV1"


def test_a_ga_conflict_in_a_set_is_reported_like_the_ga_stack_file_and_registers_nothing(
    engine: Engine,
) -> None:
    listeners = [
        {"name": "a", "ports": [{"port": 1883, "authenticationRef": "nobody"}]},
        {"name": "b", "serviceType": "LoadBalancer", "ports": [{"port": 18883}]},
    ]
    config: Any = {"apiVersion": v1_models.API_VERSION, "listeners": listeners}
    with pytest.raises(ConfigError) as from_stack:
        engine.run(lambda: deploy(load_config(config)))
    fresh_program(engine)

    with pytest.raises(ConfigError) as from_set:
        engine.run(lambda: MqListenerSetV1("dev", {"listeners": listeners}))  # type: ignore[typeddict-item]
    assert from_set.value.problems == from_stack.value.problems
    assert [p.path for p in from_set.value.problems][:1] == ["listeners[0].serviceType"]
    assert len(from_set.value.problems) >= 2
    assert str(from_set.value).startswith("aio-mq: MqListenerSetV1 'dev' has ")
    assert engine.mocks.registered == []


def test_a_ga_private_key_that_is_not_a_secret_is_refused(engine: Engine) -> None:
    cert, key = tls_pair()
    manual = {"secretRef": "tls", "certificate": cert, "privateKey": key}
    port = {"port": 8885, "tls": {"mode": "Manual", "manual": manual}}
    listener: Any = {
        "name": "a",
        "serviceType": "LoadBalancer",
        "serviceName": "aio-mq-dmqtt-frontend",  # the host tls_pair certifies
        "ports": [port],
    }
    with pytest.raises(ConfigError) as caught:
        engine.run(lambda: MqListenerSetV1("dev", {"listeners": [listener]}))
    assert [p.path for p in caught.value.problems] == [
        "listeners[0].ports[0].tls.manual.privateKey"
    ]
    assert engine.mocks.registered == []
    with pytest.raises(ConfigError) as single:
        engine.run(lambda: MqListenerV1("a", listener))
    assert [p.path for p in single.value.problems] == ["ports[0].tls.manual.privateKey"]
    assert engine.mocks.registered == []

    secret_listeners: Any = engine_output([listener], secret=True)
    engine.run(lambda: MqListenerSetV1("ok", {"listeners": secret_listeners}))
    secret = engine.mocks.of_type("kubernetes:core/v1:Secret")[0]
    assert secret.inputs["metadata"]["name"] == "tls"


def test_single_ga_listener_registers_under_the_package_token(engine: Engine) -> None:
    args: Any = {"name": "edge", "serviceType": "LoadBalancer", "ports": [{"port": 8883}]}
    ports = engine.run(lambda: MqListenerV1("edge", args).ports)
    assert [(p["port"], p["protocol"], p["tlsMode"]) for p in ports] == [(8883, "Mqtt", "None")]
    assert [r.typ for r in engine.mocks.registered][:1] == ["aio-mq:index:MqListenerV1"]
    listener = engine.mocks.of_type(
        "kubernetes:mqttbroker.iotoperations.azure.com/v1:BrokerListener"
    )[0]
    assert listener.inputs["spec"]["serviceType"] == "LoadBalancer"


def test_single_ga_listener_is_checked_against_the_default_listener(engine: Engine) -> None:
    args: Any = {"name": "extra", "ports": [{"port": 1883}]}
    with pytest.raises(ConfigError) as caught:
        engine.run(lambda: MqListenerV1("extra", args))
    assert str(caught.value).startswith("aio-mq: MqListenerV1 'extra' has 1 problem;")
    assert "at most one ClusterIp listener" in str(caught.value)
    assert engine.mocks.registered == []


def test_the_readme_ga_consumer_example_is_a_set_that_registers(engine: Engine) -> None:
    section = (ROOT / "README.md").read_text().split("## Use it from another Pulumi program")[1]
    examples = [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", section, re.S)]
    ga = next(e for e in examples if e["resources"]["dev"]["type"] == "aio-mq:MqListenerSetV1")
    summaries: Any = engine.run(
        lambda: MqListenerSetV1("dev", ga["resources"]["dev"]["properties"]).listeners
    )
    assert [p["port"] for p in summaries["dev-edge"]["ports"]] == [8884, 8443]
    assert engine.mocks.of_type("kubernetes:mqttbroker.iotoperations.azure.com/v1:BrokerListener")


def test_committed_package_schema_has_the_components_and_types_the_plugin_infers() -> None:
    # The exact text is compared with `pulumi package get-schema` on the engine
    # (tests/e2e/test_package_e2e.py); this catches a stale file without the engine.
    committed = json.loads((ROOT / "schema" / "pulumi-package.schema.json").read_text())
    inferred = json.loads(provider().schema or "{}")
    assert sorted(committed["resources"]) == sorted(inferred["resources"])
    assert sorted(committed["types"]) == sorted(inferred["types"])
    enums = {
        token: [member["value"] for member in typ["enum"]]
        for token, typ in committed["types"].items()
        if "enum" in typ
    }
    assert enums["aio-mq:index:ServiceTypeV1"] == ["ClusterIp", "LoadBalancer", "NodePort"]
    assert enums["aio-mq:index:ServiceType"] == ["clusterIp", "loadBalancer", "nodePort"]
    assert enums["aio-mq:index:Protocol"] == ["Mqtt", "WebSockets"]
    assert enums["aio-mq:index:TlsMode"] == ["Automatic", "Manual"]
    listener_v1 = committed["resources"]["aio-mq:index:MqListenerV1"]
    assert listener_v1["requiredInputs"] == ["name", "ports"]
