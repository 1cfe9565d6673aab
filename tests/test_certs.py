"""PEM checks on manual TLS material, with certificates generated in the test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from components.certs import check_tls_material, service_hosts
from components.errors import problems_from_validation
from components.v1.models import MqListenerV1Args
from components.v1beta1.models import MqListenerArgs
from tests.pki import cert_pem, certificate, ec_key, key_pem, rsa_key, tls_pair

HOSTS = service_hosts("aio-mq-dmqtt-frontend", "azure-iot-operations")
PATH = "listeners[0].tls.manual"


def messages(certificate_text: str, key_text: str) -> dict[str, str]:
    return {p.path: p.message for p in check_tls_material(certificate_text, key_text, HOSTS, PATH)}


def test_a_good_pair_passes() -> None:
    assert messages(*tls_pair()) == {}


def test_wildcard_for_the_namespace_covers_the_service() -> None:
    assert messages(*tls_pair(["*.azure-iot-operations.svc.cluster.local"])) == {}


def test_wildcard_covers_one_label_only() -> None:
    found = messages(*tls_pair(["*.svc.cluster.local"]))
    assert "do not cover" in found[f"{PATH}.certificate"]


def test_key_of_another_certificate_is_refused() -> None:
    cert, _ = tls_pair()
    _, other_key = tls_pair()
    assert "does not belong" in messages(cert, other_key)[f"{PATH}.privateKey"]


def test_expired_certificate_is_refused() -> None:
    key = ec_key()
    past = datetime.now(UTC) - timedelta(days=10)
    cert = cert_pem(certificate(key, HOSTS, not_before=past - timedelta(days=30), not_after=past))
    assert "expired on" in messages(cert, key_pem(key))[f"{PATH}.certificate"]


def test_not_yet_valid_certificate_is_refused() -> None:
    key = ec_key()
    soon = datetime.now(UTC) + timedelta(days=2)
    cert = cert_pem(certificate(key, HOSTS, not_before=soon, not_after=soon + timedelta(days=30)))
    assert "not valid before" in messages(cert, key_pem(key))[f"{PATH}.certificate"]


def test_sans_must_cover_the_service_host() -> None:
    found = messages(*tls_pair(["mq.example.com"]))
    assert "mq.example.com" in found[f"{PATH}.certificate"]
    problem = check_tls_material(*tls_pair(["mq.example.com"]), HOSTS, PATH)[0]
    assert (
        problem.fix is not None
        and "aio-mq-dmqtt-frontend.azure-iot-operations.svc.cluster.local" in problem.fix
    )


def test_encrypted_key_is_refused_without_echoing_it() -> None:
    key = ec_key()
    cert = cert_pem(certificate(key, HOSTS))
    encrypted = key_pem(key, password=b"pw")
    problems = check_tls_material(cert, encrypted, HOSTS, PATH)
    assert [p.message for p in problems] == [
        "the private key is encrypted; the broker needs it unencrypted"
    ]


def test_garbage_is_reported_for_both_without_echoing_the_key() -> None:
    problems = check_tls_material("not a cert", "hunter2-secret", HOSTS, PATH)
    assert {p.path for p in problems} == {f"{PATH}.certificate", f"{PATH}.privateKey"}
    assert all("hunter2" not in str(p) for p in problems)


def test_chain_with_mixed_algorithms_is_refused() -> None:
    ca_key = rsa_key()
    leaf_key = ec_key()
    leaf = certificate(leaf_key, HOSTS, issuer_key=ca_key)
    ca = certificate(ca_key, ["ca.example.com"])
    assert (
        "mixes key algorithms (EC, RSA)"
        in messages(cert_pem(leaf, ca), key_pem(leaf_key))[f"{PATH}.certificate"]
    )


def test_one_algorithm_chain_passes() -> None:
    ca_key = ec_key()
    leaf_key = ec_key()
    leaf = certificate(leaf_key, HOSTS, issuer_key=ca_key)
    assert (
        messages(cert_pem(leaf, certificate(ca_key, ["ca.example.com"])), key_pem(leaf_key)) == {}
    )


@pytest.mark.parametrize("host", HOSTS)
def test_each_service_host_form_is_enough(host: str) -> None:
    assert messages(*tls_pair([host])) == {}


@pytest.mark.parametrize(
    ("model", "item", "path"),
    [
        (
            MqListenerArgs,
            {"name": "l", "port": 1, "tls": {"manual": {"secretName": "s"}}},
            "listeners[0].tls.manual",
        ),
        (
            MqListenerV1Args,
            {
                "name": "l",
                "ports": [{"port": 1, "tls": {"mode": "Manual", "manual": {"secretRef": "s"}}}],
            },
            "listeners[0].ports[0].tls.manual",
        ),
    ],
    ids=["preview", "ga"],
)
def test_a_key_appended_to_the_certificate_is_named_as_such_and_not_echoed(
    model: type[BaseModel], item: dict[str, Any], path: str
) -> None:
    cert, key = tls_pair(["l"])
    manual = item["tls"]["manual"] if "tls" in item else item["ports"][0]["tls"]["manual"]
    manual["certificate"] = cert + key
    with pytest.raises(ValidationError) as caught:
        model.model_validate(item)
    (problem,) = problems_from_validation(caught.value, model, "listeners[0]")
    assert problem.path == path
    assert problem.message == (
        "the certificate text holds a private key, and privateKey is not given"
    )
    assert problem.fix is not None and "move the private key" in problem.fix
    assert "privateKey is missing" not in str(problem)
    body = key.splitlines()[1]
    assert body not in str(problem)


def test_a_key_in_the_certificate_file_is_named_as_such_and_not_echoed(tmp_path: Path) -> None:
    cert, key = tls_pair(["l"])
    pem = tmp_path / "chain-and-key.pem"
    pem.write_text(cert + key)
    manual = {"secretRef": "s", "certificateFile": str(pem)}
    item = {"name": "l", "ports": [{"port": 1, "tls": {"mode": "Manual", "manual": manual}}]}
    with pytest.raises(ValidationError) as caught:
        MqListenerV1Args.model_validate(item)
    (problem,) = problems_from_validation(caught.value, MqListenerV1Args, "listeners[0]")
    assert problem.message == (
        f"the certificate file {str(pem)!r} holds a private key, and privateKey is not given"
    )
    assert problem.fix is not None and "privateKeyFile" in problem.fix
    assert key.splitlines()[1] not in str(problem)
    # a certificate file without a key still says what is missing
    pem.write_text(cert)
    with pytest.raises(ValidationError, match="privateKey is missing"):
        MqListenerV1Args.model_validate(item)
