"""The stack file's own word on what is encrypted, and under which passphrase."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from components.secrets_check import (
    DEV_PASSPHRASE,
    StackFile,
    loopback_cluster,
    private_keys_in_clear,
)
from tests.pki import tls_pair

ROOT = Path(__file__).resolve().parent.parent
SECURE = {"secure": "v1:bm9uY2U=:c2VhbGVk"}


def stack_file(config: dict[str, Any], salt: str | None = None) -> StackFile:
    return StackFile(Path("stacks/Pulumi.t.yaml"), config, salt)


def manual(key: Any) -> dict[str, Any]:
    return {"name": "m", "port": 1, "tls": {"manual": {"secretName": "s", "privateKey": key}}}


def test_a_key_is_accepted_under_an_encrypted_value_or_an_encrypted_whole_key() -> None:
    _, key = tls_pair()
    raw = {"listeners": [manual(key)]}
    per_value = stack_file({"aio-mq:listeners": [manual(SECURE)]})
    whole_key = stack_file({"aio-mq:listeners": SECURE})
    assert private_keys_in_clear(raw, per_value, "t") == []
    assert private_keys_in_clear(raw, whole_key, "t") == []


def test_an_encrypted_value_of_another_project_does_not_count() -> None:
    _, key = tls_pair()
    other = stack_file({"other:listeners": [manual(SECURE)], "aio-mq:listeners": [manual(key)]})
    (problem,) = private_keys_in_clear({"listeners": [manual(key)]}, other, "t")
    assert problem.path == "listeners[0].tls.manual.privateKey"


def test_without_a_stack_file_a_key_is_refused_and_the_message_says_why() -> None:
    _, key = tls_pair()
    (problem,) = private_keys_in_clear({"listeners": [manual(key)]}, None, "t")
    assert problem.message == (
        "the private key is stored in clear where aio-mq cannot tell it is encrypted"
    )
    assert problem.fix is not None
    assert "aio-mq reads stacks/Pulumi.t.yaml to see which values are encrypted" in problem.fix


def test_every_key_type_of_pem_is_recognised_in_any_value() -> None:
    for header in ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY"):
        text = f"-----BEGIN {header}-----\nAAAA\n-----END {header}-----\n"
        raw = {"issuers": [{"name": "ca", "ca": {"secretName": text}}]}
        (problem,) = private_keys_in_clear(raw, stack_file({}), "t")
        assert problem.path == "issuers[0].ca.secretName"


def test_the_committed_stacks_use_the_dev_passphrase_and_it_is_recognised() -> None:
    for path in sorted((ROOT / "stacks").glob("Pulumi.*.yaml")):
        document = yaml.safe_load(path.read_text())
        committed = stack_file(document["config"], document["encryptionsalt"])
        assert committed.uses_passphrase(DEV_PASSPHRASE), path.name
        assert not committed.uses_passphrase("another passphrase"), path.name
        assert not committed.has_secrets()
    assert not stack_file({}, "v1:garbage").uses_passphrase(DEV_PASSPHRASE)
    assert not stack_file({}).uses_passphrase(DEV_PASSPHRASE)
    assert stack_file({"kubernetes:context": SECURE}).has_secrets()


def kubeconfig(tmp_path: Path, server: str) -> str:
    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "current-context": "c",
                "contexts": [{"name": "c", "context": {"cluster": "k"}}],
                "clusters": [{"name": "k", "cluster": {"server": server}}],
            }
        )
    )
    return str(path)


def test_a_cluster_on_this_machine_only_is_told_from_a_remote_one(tmp_path: Path) -> None:
    assert loopback_cluster(kubeconfig(tmp_path, "https://127.0.0.1:6443"), None)
    assert loopback_cluster(kubeconfig(tmp_path, "https://localhost:6443"), "c")
    assert not loopback_cluster(kubeconfig(tmp_path, "https://aks.example.com:443"), None)
    assert not loopback_cluster(kubeconfig(tmp_path, "https://127.0.0.1:6443"), "other")
    assert not loopback_cluster(str(tmp_path / "missing"), None)
