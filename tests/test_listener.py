"""MqListener used directly from a Pulumi program, under mocks."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pytest
from pulumi.runtime import rpc
from pulumi.runtime.sync_await import _sync_await
from pydantic import ValidationError

from components import (
    ConfigError,
    ExistingListener,
    MqListener,
    MqListenerArgs,
    cert_manager_issuer,
    declare_existing_listeners,
)
from components.issuer import IssuerArgs, SelfSignedIssuer
from components.registry import program_listeners
from tests.conftest import MARK, Engine
from tests.pki import tls_pair

LISTENER_TYPE = "kubernetes:mq.iotoperations.azure.com/v1beta1:BrokerListener"


def test_registers_component_and_cr_as_its_child(engine: Engine) -> None:
    summary = engine.run(
        lambda: MqListener("telemetry", {"name": "telemetry", "port": 1884}).summary
    )
    component = engine.mocks.of_type("aio:mq:MqListener")
    (cr,) = engine.mocks.of_type(LISTENER_TYPE)
    assert [c.name for c in component] == ["telemetry"]
    assert cr.name == "telemetry"
    assert cr.inputs["apiVersion"] == "mq.iotoperations.azure.com/v1beta1"
    assert cr.inputs["metadata"] == {
        "name": "telemetry",
        "namespace": "azure-iot-operations",
        **MARK,
    }
    assert cr.inputs["spec"]["brokerRef"] == "broker"
    assert summary == {
        "name": "telemetry",
        "namespace": "azure-iot-operations",
        "port": 1884,
        "serviceName": "aio-mq-dmqtt-frontend",
        "serviceType": "clusterIp",
        "host": "aio-mq-dmqtt-frontend.azure-iot-operations.svc.cluster.local",
        "tlsMode": "none",
        "tlsIssuer": None,
        "tlsSecretName": None,
        "authentication": None,
        "authorization": None,
    }


def test_child_is_parented_to_the_component(engine: Engine) -> None:
    def program() -> pulumi.Output[str]:
        listener = MqListener("p", MqListenerArgs(name="p", port=1884))
        return pulumi.Output.all(listener.urn, listener.broker_listener.urn).apply("|".join)

    component_urn, cr_urn = engine.run(program).split("|")
    assert (
        "aio:mq:MqListener$kubernetes:mq.iotoperations.azure.com/v1beta1:BrokerListener::p"
        in cr_urn
    )
    assert component_urn.endswith("aio:mq:MqListener::p")


def test_outputs(engine: Engine) -> None:
    def program() -> pulumi.Output[list[object]]:
        tls = {"automatic": {"issuerRef": {"name": "ca"}}}
        args = {
            "name": "edge",
            "port": 8884,
            "serviceType": "loadBalancer",
            "serviceName": "edge",
            "tls": tls,
        }
        listener = MqListener("edge", args)
        return pulumi.Output.all(
            listener.listener_name,
            listener.port,
            listener.service_type,
            listener.host,
            listener.tls_mode,
            listener.tls_issuer,
            listener.tls_secret_name,
        )

    assert engine.run(program) == [
        "edge",
        8884,
        "loadBalancer",
        "edge.azure-iot-operations.svc.cluster.local",
        "automatic",
        "ca",
        None,
    ]


def test_listeners_of_one_program_are_checked_against_each_other(engine: Engine) -> None:
    def program() -> None:
        MqListener(
            "a", {"name": "a", "port": 1884, "serviceType": "loadBalancer", "serviceName": "lb"}
        )
        MqListener(
            "b", {"name": "b", "port": 1885, "serviceType": "loadBalancer", "serviceName": "lb-2"}
        )

    with pytest.raises(ConfigError) as caught:
        engine.run(program)
    assert "Rule 1" in str(caught.value)
    assert "'b'" in str(caught.value) and "'a'" in str(caught.value)
    assert engine.mocks.registered == []


def test_a_conflict_keeps_earlier_listeners_unregistered(engine: Engine) -> None:
    def program() -> None:
        for port in (1884, 1885, 1886):
            MqListener(f"ok-{port}", {"name": f"ok-{port}", "port": port})
        MqListener("clash", {"name": "clash", "port": 1885})

    with pytest.raises(ConfigError, match="port 1885 is used twice"):
        engine.run(program)
    assert engine.mocks.registered == []


def test_issuers_waiting_on_the_gate_stay_unregistered_too(engine: Engine) -> None:
    def program() -> None:
        issuer = cert_manager_issuer(
            IssuerArgs(name="ss", self_signed=SelfSignedIssuer()),
            pulumi.ResourceOptions(depends_on=program_listeners().gate()),
        )
        MqListener("a", {"name": "a", "port": 1884}, pulumi.ResourceOptions(depends_on=[issuer]))
        MqListener("b", {"name": "b", "port": 8883})

    with pytest.raises(ConfigError):
        engine.run(program)
    assert engine.mocks.registered == []


def test_default_listener_is_assumed(engine: Engine) -> None:
    with pytest.raises(ConfigError, match="the default listener 'listener'"):
        engine.run(
            lambda: MqListener("x", {"name": "x", "port": 1884, "serviceName": "my-service"})
        )


def test_declared_existing_listeners_replace_the_default(engine: Engine) -> None:
    def program() -> None:
        declare_existing_listeners(
            [ExistingListener(name="old", port=1883, service_type="nodePort", service_name="np")]
        )
        MqListener(
            "x", {"name": "x", "port": 1884, "serviceName": "my-service"}
        )  # no default listener now
        MqListener("y", {"name": "y", "port": 1883, "serviceType": "nodePort", "serviceName": "np"})

    with pytest.raises(ConfigError) as caught:
        engine.run(program)
    message = str(caught.value)
    assert "existingListeners[0] 'old'" in message and "port 1883" in message
    assert "'x'" not in message


def test_no_existing_listeners(engine: Engine) -> None:
    def program() -> None:
        declare_existing_listeners([])
        MqListener("x", {"name": "x", "port": 8883, "serviceName": "my-service"})

    engine.run(program)
    assert list(engine.mocks.broker_listeners) == ["x"]


def test_existing_listeners_are_declared_once_and_first(engine: Engine) -> None:
    def program() -> None:
        MqListener("x", {"name": "x", "port": 1884})
        declare_existing_listeners([])

    with pytest.raises(pulumi.RunError, match="before the first MqListener"):
        engine.run(program)


def test_bad_existing_listener_is_reported_with_its_path(engine: Engine) -> None:
    with pytest.raises(ConfigError, match=r"existingListeners\[1\]\.port"):
        engine.run(
            lambda: declare_existing_listeners(
                [{"name": "a", "port": 1}, {"name": "b", "port": "x"}]
            )
        )


def test_invalid_args_name_the_key_and_register_nothing(engine: Engine) -> None:
    def program() -> None:
        MqListener("ok", {"name": "ok", "port": 1884})
        MqListener("bad", {"name": "bad", "port": 99999, "serviceType": "LoadBalancer"})

    with pytest.raises(ConfigError) as caught:
        engine.run(program)
    message = str(caught.value)
    assert "MqListener 'bad' has 2 problems" in message
    assert "port: 99999 is not a TCP port" in message
    assert "did you mean 'loadBalancer'?" in message
    assert engine.mocks.registered == []


def test_dependencies_are_passed_to_the_cr(engine: Engine) -> None:
    def program() -> pulumi.Output[object]:
        issuer = cert_manager_issuer(IssuerArgs(name="ss", self_signed=SelfSignedIssuer()))
        tls = {"automatic": {"issuerRef": {"name": "ss"}}}
        listener = MqListener(
            "t",
            {"name": "t", "port": 1884, "tls": tls},
            pulumi.ResourceOptions(depends_on=[issuer]),
        )
        return listener.broker_listener.urn

    engine.run(program)
    # The mock engine registers in dependency order: the Issuer before the BrokerListener.
    types = [r.typ for r in engine.mocks.registered]
    assert types.index("kubernetes:cert-manager.io/v1:Issuer") < types.index(LISTENER_TYPE)


def test_manual_tls_creates_a_secret_and_keeps_the_key_secret(engine: Engine) -> None:
    cert, key = tls_pair()
    holder: dict[str, MqListener] = {}

    def program() -> pulumi.Output[object]:
        tls = {"manual": {"secretName": "frontend-cert", "certificate": cert, "privateKey": key}}
        holder["l"] = MqListener("m", {"name": "m", "port": 1884, "tls": tls})
        return holder["l"].summary

    summary = engine.run(program)
    listener = holder["l"]
    assert listener.tls_secret is not None
    (secret,) = engine.mocks.of_type("kubernetes:core/v1:Secret")
    assert secret.name == "m-tls"
    assert secret.inputs["type"] == "kubernetes.io/tls"
    assert secret.inputs["metadata"] == {
        "name": "frontend-cert",
        "namespace": "azure-iot-operations",
        **MARK,
    }
    # The engine receives stringData as a secret value, not as plain properties.
    wrapped = secret.inputs["stringData"]
    assert wrapped[rpc._special_sig_key] == rpc._special_secret_sig
    assert wrapped["value"] == {"tls.crt": cert, "tls.key": key}
    assert _sync_await(listener.tls_secret.string_data.is_secret())
    cr = engine.mocks.broker_listeners["m"]
    assert cr["spec"]["tls"] == {"manual": {"secretName": "frontend-cert"}}
    assert summary["tlsSecretName"] == "frontend-cert"
    assert key not in repr(summary) and key not in repr(
        engine.mocks.of_type("aio:mq:MqListener")[0].inputs
    )


def test_bad_manual_tls_material_is_refused_before_registration(engine: Engine) -> None:
    cert, _ = tls_pair(["mq.example.com"])
    _, other_key = tls_pair()

    def program() -> None:
        tls = {"manual": {"secretName": "c", "certificate": cert, "privateKey": other_key}}
        MqListener("m", {"name": "m", "port": 1884, "tls": tls})

    with pytest.raises(ConfigError) as caught:
        engine.run(program)
    message = str(caught.value)
    assert "tls.manual.privateKey: the private key does not belong to the certificate" in message
    assert "tls.manual.certificate: the certificate's SANs (mq.example.com)" in message
    assert engine.mocks.registered == []


def test_one_pulumi_name_for_two_listeners_is_refused_before_registration(
    engine: Engine,
) -> None:
    def program() -> None:
        MqListener("x", {"name": "x", "port": 1884})
        MqListener("x", {"name": "x", "port": 1885, "namespace": "other"})

    with pytest.raises(ConfigError) as caught:
        engine.run(program)
    assert (
        "the Pulumi resource name 'x' of 'x' (clusterIp aio-mq-dmqtt-frontend:1885) is already "
        "used by 'x' (clusterIp aio-mq-dmqtt-frontend:1884); Pulumi names must be unique"
        in str(caught.value)
    )
    assert "fix: give each MqListener its own resource name" in str(caught.value)
    assert engine.mocks.registered == []


def test_one_listener_name_in_two_namespaces_composes(engine: Engine) -> None:
    def program() -> None:
        MqListener("x", {"name": "x", "port": 1884})
        MqListener("other/x", {"name": "x", "port": 1885, "namespace": "other"})

    engine.run(program)
    assert sorted(
        r.inputs["metadata"]["namespace"] for r in engine.mocks.of_type(LISTENER_TYPE)
    ) == ["azure-iot-operations", "other"]


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory to run from, with a secrets/ folder for key files."""
    (tmp_path / "Pulumi.yaml").write_text("name: aio-mq\n")
    (tmp_path / "secrets").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_pair(project_dir: Path, key_mode: int = 0o600) -> tuple[str, str]:
    cert, key = tls_pair()
    (project_dir / "secrets" / "m.crt").write_text(cert)
    key_file = project_dir / "secrets" / "m.key"
    key_file.write_text(key)
    key_file.chmod(key_mode)
    return cert, key


FROM_FILES = {
    "secretName": "m-cert",
    "certificateFile": "secrets/m.crt",
    "privateKeyFile": "secrets/m.key",
}


def test_certificate_and_key_from_files_make_the_secret(engine: Engine, project_dir: Path) -> None:
    cert, key = write_pair(project_dir)
    engine.run(lambda: MqListener("m", {"name": "m", "port": 1884, "tls": {"manual": FROM_FILES}}))
    (secret,) = engine.mocks.of_type("kubernetes:core/v1:Secret")
    wrapped = secret.inputs["stringData"]
    assert wrapped[rpc._special_sig_key] == rpc._special_secret_sig
    assert wrapped["value"] == {"tls.crt": cert, "tls.key": key}
    assert engine.mocks.broker_listeners["m"]["spec"]["tls"] == {"manual": {"secretName": "m-cert"}}


def test_unreadable_or_shared_key_files_are_refused(engine: Engine, project_dir: Path) -> None:
    write_pair(project_dir, key_mode=0o644)

    def program() -> None:
        missing = {**FROM_FILES, "certificateFile": "secrets/none.crt"}
        MqListener("m", {"name": "m", "port": 1884, "tls": {"manual": missing}})

    with pytest.raises(ConfigError) as caught:
        engine.run(program)
    message = str(caught.value)
    assert (
        "tls.manual.certificateFile: cannot read 'secrets/none.crt' (No such file or directory)"
        in message
    )
    assert (
        "tls.manual.privateKeyFile: 'secrets/m.key' can be read by other users (mode -rw-r--r--)"
        "\n      fix: chmod 600 secrets/m.key" in message
    )
    assert engine.mocks.registered == []


def test_inline_and_file_of_one_kind_are_refused() -> None:
    manual = {**FROM_FILES, "certificate": "text"}
    with pytest.raises(ValidationError, match="certificate and certificateFile are both given"):
        MqListenerArgs.model_validate({"name": "m", "port": 1, "tls": {"manual": manual}})
    half = {"secretName": "s", "certificateFile": "c.pem"}
    with pytest.raises(ValidationError, match="privateKey is missing"):
        MqListenerArgs.model_validate({"name": "m", "port": 1, "tls": {"manual": half}})
