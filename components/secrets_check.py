"""What may only be given encrypted, checked against the stack file value by value.

Pulumi tells a program only whether a top-level key holds an encrypted value *somewhere* inside
(`is_config_secret('aio-mq:listeners')`), so one key set in clear next to one set with `--secret`
passed. The stack file says it per value: `pulumi config set --secret` writes
`{secure: v1:...}` in place of the value. So the program reads its stack file, collects the
key paths of those `secure:` values, and accepts a private key only at one of them.

The same file tells whether its secrets are protected by the public dev passphrase: its
`encryptionsalt` holds the word "pulumi" encrypted with the passphrase's key.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pulumi
import yaml
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import stack_file
from .certs import holds_private_key
from .errors import Problem, join_path
from .project_files import project_root
from .stack_file import PROJECT

DEV_PASSPHRASE = "aio-mq-dev"
"""The passphrase of the committed stacks, public by design (tools/pulumi uses it by default)."""

KeyPath = tuple[int | str, ...]
"""A config value's place: ('listeners', 0, 'tls', 'manual', 'privateKey')."""


@dataclass(frozen=True)
class StackFile:
    """The running stack's `Pulumi.<stack>.yaml`, as written on disk (secrets still encrypted)."""

    path: Path
    """Relative to the project directory."""
    config: dict[str, Any]
    encryption_salt: str | None

    @classmethod
    def of_running_stack(cls) -> StackFile | None:
        """The stack file of the program that is running, or None if there is none to read."""
        root = project_root()
        try:
            project = yaml.safe_load((root / "Pulumi.yaml").read_text()) or {}
            path = Path(str(project.get("stackConfigDir") or ".")) / (
                f"Pulumi.{pulumi.get_stack()}.yaml"
            )
            document = stack_file.load((root / path).read_text())
        except (OSError, yaml.YAMLError, AttributeError, stack_file.StackFileError):
            return None
        salt = document.get("encryptionsalt")
        return cls(
            path=path,
            config=stack_file.plain(stack_file.config_of(document)),
            encryption_salt=salt if isinstance(salt, str) else None,
        )

    def encrypted_paths(self) -> set[KeyPath]:
        """Key paths of this project's `secure:` values (keys without the project prefix)."""
        found: set[KeyPath] = set()
        for key, value in self.config.items():
            project, _, name = str(key).partition(":")
            if project == PROJECT:
                found.update(_secure_paths(value, (name,)))
        return found

    def has_secrets(self) -> bool:
        """Whether any value of the file, of any project, is encrypted."""
        return any(
            next(_secure_paths(value, ()), None) is not None for value in self.config.values()
        )

    def uses_passphrase(self, passphrase: str) -> bool:
        """Whether the file's secrets are encrypted with `passphrase` (Pulumi's passphrase
        secrets manager: PBKDF2-SHA256 over the salt, then AES-256-GCM of the word "pulumi")."""
        try:
            _, salt, check = (self.encryption_salt or "").split(":", 2)
            _, nonce, sealed = check.split(":")
            key = hashlib.pbkdf2_hmac(
                "sha256", passphrase.encode(), base64.b64decode(salt), 1_000_000, 32
            )
            opened = AESGCM(key).decrypt(base64.b64decode(nonce), base64.b64decode(sealed), None)
        except (ValueError, InvalidTag):
            return False
        return opened == b"pulumi"


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def _secure_paths(value: Any, path: KeyPath) -> Iterator[KeyPath]:
    if _is_secure(value):
        yield path
    else:
        for key, item in _items(value):
            yield from _secure_paths(item, (*path, key))


def _walk(value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
    """Every value inside `value` with its path, containers before their items."""
    yield path, value
    for key, item in _items(value):
        yield from _walk(item, (*path, key))


def _items(value: Any) -> Iterator[tuple[int | str, Any]]:
    if isinstance(value, dict):
        yield from value.items()
    elif isinstance(value, list):
        yield from enumerate(value)


def _display(path: KeyPath) -> str:
    return join_path(str(path[0]), path[1:])


def _is_manual(path: KeyPath, field: str) -> bool:
    return len(path) >= 4 and path[-3:] == ("tls", "manual", field)


def private_keys_in_clear(
    raw: dict[str, Any], stack_file: StackFile | None, stack: str
) -> list[Problem]:
    """A Problem for each value of `raw` (the `aio-mq:*` keys as the program got them,
    decrypted) that is or holds a private key without being encrypted in the stack file."""
    encrypted = stack_file.encrypted_paths() if stack_file else set()
    problems: list[Problem] = []
    for key, value in raw.items():
        for path, item in _walk(value, (key,)):
            if not isinstance(item, str):
                continue
            if _is_manual(path, "certificate"):
                continue  # refused by certs.check_tls_material, encrypted or not
            is_key_field = _is_manual(path, "privateKey")
            if not (is_key_field or holds_private_key(item)):
                continue
            if any(path[:n] in encrypted for n in range(1, len(path) + 1)):
                continue
            problems.append(_in_clear(path, is_key_field, stack_file, stack))
    return problems


def _in_clear(
    path: KeyPath, is_key_field: bool, stack_file: StackFile | None, stack: str
) -> Problem:
    shown = _display(path)
    where = "in the stack file" if stack_file else "where aio-mq cannot tell it is encrypted"
    what = "the private key is stored in clear" if is_key_field else "a PEM private key is stored"
    fix = (
        f"store it encrypted: tools/pulumi config set --stack {stack} --secret --path "
        f"'{shown}' < key.pem"
        if is_key_field
        else "remove it from there; a listener's key goes in tls.manual.privateKey, set with "
        "`config set --secret`"
    )
    if stack_file is None:
        fix += f" (aio-mq reads stacks/Pulumi.{stack}.yaml to see which values are encrypted)"
    return Problem(shown, f"{what} {where}", fix)


def loopback_cluster(kubeconfig: str | None, context: str | None) -> bool:
    """Whether the cluster of `context` in `kubeconfig` (default: $KUBECONFIG or
    ~/.kube/config; relative paths from the project) is served on this machine only, like the
    one tools/local-cluster runs. Anything unreadable counts as a remote cluster."""
    default = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or "~/.kube/config"
    path = project_root() / Path(kubeconfig or default).expanduser()
    try:
        config = yaml.safe_load(path.read_text()) or {}
        name = context or config["current-context"]
        (cluster,) = [c["context"]["cluster"] for c in config["contexts"] if c["name"] == name]
        (server,) = [c["cluster"]["server"] for c in config["clusters"] if c["name"] == cluster]
        host = urlsplit(server).hostname or ""
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError):
        return False


def public_passphrase(stack_file: StackFile | None, stack: str) -> list[Problem]:
    """A Problem if the stack file holds secrets encrypted with the public dev passphrase."""
    if stack_file is None or not stack_file.has_secrets():
        return []
    if not stack_file.uses_passphrase(DEV_PASSPHRASE):
        return []
    return [
        Problem(
            f"{PROJECT}:kubernetes",
            f"this stack deploys to a cluster, but its secrets are encrypted with the public dev "
            f"passphrase {DEV_PASSPHRASE!r} (anyone with the stack file can read them)",
            f"re-encrypt them with a passphrase of your own: tools/pulumi stack "
            f"change-secrets-provider --stack {stack} passphrase (asks for the new one; then "
            f"export PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE for every run), "
            f"or with a key vault: ... change-secrets-provider --stack {stack} "
            f"'azurekeyvault://<vault>.vault.azure.net/keys/<key>'",
        )
    ]
