"""From a preview stack file (mq.iotoperations.azure.com/v1beta1) to a GA one
(mqttbroker.iotoperations.azure.com/v1): `tools/migrate-to-v1 stacks/Pulumi.<stack>.yaml`.

The GA stack is written to stdout, a note per decision to stderr. What cannot be carried over is
refused, every item at once, and nothing is written. The mapping follows the fact sheet's
"From the preview API to GA" table:

- listeners that share a Service (same namespace, broker, serviceType and serviceName) become
  one GA listener whose `ports` are theirs; those on the preview default listener's Service
  (clusterIp aio-mq-dmqtt-frontend) become ports of GA's `default` listener, which the GA stack
  then manages with its port 18883 as Azure IoT Operations installs it;
- `authenticationEnabled` / `authorizationEnabled` and the `listenerRef` of the stack's
  BrokerAuthentications / BrokerAuthorizations become each port's `authenticationRef` /
  `authorizationRef`;
- TLS `automatic` becomes `certManagerCertificateSpec` (key algorithm and size -> Ec256 ...
  Rsa8192), `manual` becomes `secretRef`; the default broker `broker` becomes `default`;
- a render stack renders into `rendered/<GA stack>`, not into the preview stack's directory;
  what the GA stack uses without creating it is declared (`existingSecrets`, `existingIssuers`)
  for the guardrails policy pack.

The stack file is read as Pulumi reads it (components/stack_file.py) and rewritten in place:
keys carried over keep their text and comments; each comment lost with a rewritten key is named
in a note.

Refused: Key Vault TLS, a Secret in another namespace than the object using it, key sizes GA
has no algorithm for, usernamePassword authentication, X.509 attributes kept in a Secret, a
listener listed by several objects of one kind, existing objects given without their spec, and
keys this tool does not know. Two of them are carried over when the operator says how
(`Decisions`): Key Vault TLS, as manual TLS from the Secret that Azure IoT Operations' secret
sync writes the certificate to (`--tls-secret LISTENER=SECRET`), and X.509 attributes, inline
from a file holding what their Secret holds (`--x509-attributes AUTHENTICATION=FILE`).
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from ruamel.yaml.comments import CommentedMap

from .. import stack_file
from ..config import StackBase, config_keys
from ..declared import issuer_key
from ..errors import ConfigError, Problem, join_path, problems_from_validation
from ..secrets_check import StackFile
from ..spec import DEFAULT_NAMESPACE
from ..stack import validate_config
from ..stack_file import PROJECT
from ..v1beta1 import auth as preview_auth
from ..v1beta1 import models as preview
from ..v1beta1.config import StackConfig
from . import models as ga
from .auth import DEFAULT_AUTHENTICATION, X509Attributes

KEY_ALGORITHMS = {
    ("ECDSA", 256): "Ec256",
    ("ECDSA", 384): "Ec384",
    ("ECDSA", 521): "Ec521",
    ("Ed25519", 256): "Ed25519",
    ("RSA", 2048): "Rsa2048",
    ("RSA", 4096): "Rsa4096",
    ("RSA", 8192): "Rsa8192",
}
SERVICE_TYPES = {"clusterIp": "ClusterIp", "loadBalancer": "LoadBalancer", "nodePort": "NodePort"}
MAPPED_KEYS = {
    "apiVersion",
    "brokerRef",
    "listeners",
    "existingListeners",
    "authentications",
    "authorizations",
    "existingAuthentications",
    "existingAuthorizations",
}
"""The preview-only keys this tool maps; keys common to both APIs are carried over as they are."""


@dataclass(frozen=True)
class Decisions:
    """What the operator decided for what has no GA counterpart (the command's options)."""

    tls_secrets: Mapping[str, str] = field(default_factory=dict)
    """`--tls-secret LISTENER=SECRET`: the kubernetes.io/tls Secret (in the listener's
    namespace) that secret sync fills with a Key Vault listener's certificate."""
    x509_attributes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """`--x509-attributes AUTHENTICATION=FILE`: what the Secret of the x509 method's
    `attributes` holds, in GA's `authorizationAttributes` shape (name -> {subject,
    attributes})."""
    stack: str | None = None
    """`--stack NAME`: the GA stack's name (default: the preview stack's, with `-ga`). A
    render stack renders into its own rendered/NAME, not into the preview stack's directory."""


@dataclass
class Migration:
    """The GA config keys (without the project prefix) and what was decided on the way."""

    config: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    refused: list[Problem] = field(default_factory=list)
    decisions: Decisions = field(default_factory=Decisions)
    used: set[tuple[str, str]] = field(default_factory=set)
    """(option, name) of the decisions applied; any other is a mistake."""

    def note(self, text: str) -> None:
        self.notes.append(text)

    def refuse(self, path: str, message: str, fix: str) -> None:
        self.refused.append(Problem(path, message, fix))


def migrate_config(raw: dict[str, Any], decisions: Decisions | None = None) -> Migration:
    """The GA form of a preview stack's `aio-mq:*` keys (given without the prefix)."""
    out = Migration(decisions=decisions or Decisions())
    version = raw.get("apiVersion", preview.API_VERSION)
    if version != preview.API_VERSION:
        out.refuse(
            f"{PROJECT}:apiVersion",
            f"the stack is not a preview stack (apiVersion {version})",
            "give this tool a stack file of mq.iotoperations.azure.com/v1beta1",
        )
        return out
    try:
        # The stack file's own checks (keys in clear, the passphrase) stay with the stack.
        stack = validate_config(_without_secure_values(raw))
    except ConfigError as exc:
        out.refused += [_unreadable_if_encrypted(problem, raw) for problem in exc.problems]
        return out
    assert isinstance(stack, StackConfig)

    out.config["apiVersion"] = ga.API_VERSION
    for key, value in raw.items():
        if key in config_keys(StackBase):
            out.config[key] = copy.deepcopy(value)
        elif key not in MAPPED_KEYS:
            out.refuse(
                f"{PROJECT}:{key}",
                "this key has no GA counterpart that migrate-to-v1 knows",
                "remove it from the preview stack, or migrate it by hand",
            )
    _render_directory(out, stack)
    _broker_ref(out, stack)
    links = _auth(out, stack)
    _listeners(out, stack, raw.get("listeners", []), links)
    _unused_decisions(out)
    return out


def _unused_decisions(out: Migration) -> None:
    options = (
        ("--tls-secret", out.decisions.tls_secrets, "a listener with Key Vault TLS"),
        (
            "--x509-attributes",
            out.decisions.x509_attributes,
            "a BrokerAuthentication whose x509 method keeps its attributes in a Secret",
        ),
    )
    for option, given, what in options:
        for name in given:
            if (option, name) not in out.used:
                out.refuse(
                    f"{option} {name}",
                    f"{name!r} is not {what} in this stack",
                    f"remove the option, or name {what}",
                )


ENCRYPTED_PLACEHOLDER = "encrypted"
"""What the checks see in place of a `secure:` value: only the engine can decrypt it (the
program checks it then). A plain lower-case word, valid wherever a name goes, since
`pulumi config set --secret --path` may encrypt a name as well as a key."""


def _without_secure_values(value: Any) -> Any:
    """The config with `secure:` values (encrypted in the stack file) replaced by a
    placeholder, so the models can check everything else."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return ENCRYPTED_PLACEHOLDER
        return {key: _without_secure_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_secure_values(item) for item in value]
    return value


def _unreadable_if_encrypted(problem: Problem, raw: dict[str, Any]) -> Problem:
    """A problem with an encrypted value is that the tool cannot read it (it checks a
    placeholder), not what the placeholder fails."""
    encrypted = StackFile(Path(), {f"{PROJECT}:{k}": v for k, v in raw.items()}, None)
    if problem.path not in {join_path(str(p[0]), p[1:]) for p in encrypted.encrypted_paths()}:
        return problem
    return Problem(
        problem.path,
        "is encrypted in the stack file, and migrate-to-v1 cannot decrypt it to check it and "
        "carry it over",
        f"set it in clear for the migration (tools/pulumi config set --path '{problem.path}' "
        "<value>), then encrypt it again in the GA stack if it must be",
    )


def _render_directory(out: Migration, stack: StackConfig) -> None:
    """A render stack's directory holds exactly its manifests (`make render` empties it), so
    the GA stack gets its own, named after it, as tools/stacks names a cluster stack's."""
    before = stack.kubernetes.render_yaml_to_directory
    if before is None:
        return
    key = f"{PROJECT}:kubernetes.renderYamlToDirectory"
    if out.decisions.stack is None:
        out.refuse(
            key,
            f"the GA stack would render into {before!r}, the preview stack's directory",
            "name the GA stack (--stack NAME): it renders into rendered/NAME",
        )
        return
    after = f"rendered/{out.decisions.stack}"
    if after == before:
        return
    out.config["kubernetes"]["renderYamlToDirectory"] = after
    out.note(
        f"{key} {before!r} becomes {after!r}: stack {out.decisions.stack!r} renders into its own "
        f"directory, the preview stack keeps {before!r}"
    )


def _broker_ref(out: Migration, stack: StackConfig) -> None:
    if stack.broker_ref == preview.DEFAULT_BROKER:
        out.note(
            f"{PROJECT}:brokerRef: the preview default broker {preview.DEFAULT_BROKER!r} becomes "
            f"GA's default broker {ga.DEFAULT_BROKER!r} (the key is left out)"
        )
    else:
        out.config["brokerRef"] = stack.broker_ref
        out.note(f"{PROJECT}:brokerRef {stack.broker_ref!r} is kept")


# --- listeners -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Service:
    namespace: str
    broker: str
    service_type: str
    service_name: str


def _service_of(
    item: preview.MqListenerArgs | preview.ExistingListener, stack: StackConfig
) -> _Service:
    return _Service(
        item.namespace or stack.namespace,
        item.broker_ref or stack.broker_ref,
        item.service_type,
        item.service_name,
    )


_PREVIEW_DEFAULT_SERVICE = _Service(
    DEFAULT_NAMESPACE,
    preview.DEFAULT_BROKER,
    preview.DEFAULT_SERVICE_TYPE,
    preview.DEFAULT_SERVICE_NAME,
)


def _listeners(
    out: Migration, stack: StackConfig, raw_items: list[dict[str, Any]], links: list[_Linked]
) -> None:
    existing = (
        [preview.DEFAULT_LISTENER]
        if stack.existing_listeners is None
        else list(stack.existing_listeners)
    )
    default_exists = any(_is_preview_default(e, stack) for e in existing)

    groups: dict[_Service, list[int]] = {}
    for i, item in enumerate(stack.listeners):
        groups.setdefault(_service_of(item, stack), []).append(i)

    listeners: list[dict[str, Any]] = []
    manages_default = False
    for service, indexes in groups.items():
        if default_exists and service == _PREVIEW_DEFAULT_SERVICE:
            manages_default = True
            listeners.append(_default_listener(out, stack, raw_items, indexes, links))
            continue
        first = stack.listeners[indexes[0]]
        listener: dict[str, Any] = {"name": first.name}
        if first.namespace is not None:
            listener["namespace"] = first.namespace
        if first.broker_ref is not None and first.broker_ref != preview.DEFAULT_BROKER:
            listener["brokerRef"] = first.broker_ref
        listener["serviceType"] = SERVICE_TYPES[service.service_type]
        listener["serviceName"] = service.service_name
        listener["ports"] = [_port(out, stack, raw_items, i, links) for i in indexes]
        if len(indexes) > 1:
            out.note(
                f"{_names(stack, indexes)} share Service {service.service_name!r} "
                f"({service.service_type}): they become listener {first.name!r} with ports "
                f"{_port_list(stack, indexes)}"
            )
        listeners.append(listener)
    out.config["listeners"] = listeners
    _existing_listeners(out, stack, existing, manages_default)


def _is_preview_default(item: preview.ExistingListener, stack: StackConfig) -> bool:
    return item.name == preview.DEFAULT_LISTENER.name and (
        _service_of(item, stack) == _PREVIEW_DEFAULT_SERVICE
    )


def _default_listener(
    out: Migration,
    stack: StackConfig,
    raw_items: list[dict[str, Any]],
    indexes: list[int],
    links: list[_Linked],
) -> dict[str, Any]:
    """GA's `default` listener, as installed, with the ports of the listeners that were on the
    preview default listener's Service."""
    installed = ga.DEFAULT_LISTENER
    ports = [_port(out, stack, raw_items, i, links) for i in indexes]
    (aio_port,) = installed.ports
    taken = [i for i, port in zip(indexes, ports, strict=True) if port["port"] == aio_port.port]
    if taken:
        out.note(
            f"listeners[{taken[0]}] {stack.listeners[taken[0]].name!r} uses port "
            f"{aio_port.port}, which GA's default listener has: its settings replace the "
            f"installed ones there (the program warns that Azure IoT Operations components "
            f"expect authenticationRef {aio_port.authentication_ref!r} and the AIO certificate)"
        )
    else:
        ports.insert(0, aio_port.cr())
        assert aio_port.tls is not None and aio_port.tls.cert_manager_certificate_spec is not None
        issuer = aio_port.tls.cert_manager_certificate_spec.issuer_ref
        declared = issuer_key(issuer.kind, issuer.name, DEFAULT_NAMESPACE)
        _declare_existing(
            out,
            "existingIssuers",
            declared,
            f"{PROJECT}:existingIssuers declares {declared!r} as existing (Azure IoT Operations "
            f"installs it for port {aio_port.port} of {installed.name!r}), so the guardrails "
            "policy pack accepts the reference",
        )
    out.note(
        f"{_names(stack, indexes)} used the preview default listener's Service "
        f"{preview.DEFAULT_SERVICE_NAME!r} ({preview.DEFAULT_SERVICE_TYPE}); GA allows one "
        f"ClusterIp listener per broker, and that is {installed.name!r} (Service "
        f"{installed.service!r}), so they become its ports {_port_list(stack, indexes)}: this "
        f"stack now manages {installed.name!r}, with port {aio_port.port} as Azure IoT "
        f"Operations installs it. Clients connect to {installed.service!r} instead of "
        f"{preview.DEFAULT_SERVICE_NAME!r}"
    )
    return {
        "name": installed.name,
        "serviceType": installed.service_type,
        "serviceName": installed.service,
        "ports": ports,
    }


def _names(stack: StackConfig, indexes: list[int]) -> str:
    return ", ".join(f"listeners[{i}] {stack.listeners[i].name!r}" for i in indexes)


def _port_list(stack: StackConfig, indexes: list[int]) -> str:
    return ", ".join(str(stack.listeners[i].port) for i in indexes)


def _port(
    out: Migration,
    stack: StackConfig,
    raw_items: list[dict[str, Any]],
    i: int,
    links: list[_Linked],
) -> dict[str, Any]:
    item = stack.listeners[i]
    path = f"listeners[{i}]"
    port: dict[str, Any] = {"port": item.port}
    if item.node_port is not None:
        port["nodePort"] = item.node_port
    namespace = item.namespace or stack.namespace
    authentication = _linked(out, AUTHENTICATION, item, namespace=namespace, path=path, links=links)
    authorization = _linked(out, AUTHORIZATION, item, namespace=namespace, path=path, links=links)
    if item.authentication_enabled:
        if authentication is None:
            authentication = DEFAULT_AUTHENTICATION.name
            out.note(
                f"{path} {item.name!r} has authenticationEnabled and no BrokerAuthentication "
                f"lists it: its port uses GA's default BrokerAuthentication "
                f"{DEFAULT_AUTHENTICATION.name!r} (service account tokens, audience aio-internal)"
            )
        port["authenticationRef"] = authentication
    if item.authorization_enabled and not item.authentication_enabled:
        out.note(
            f"{path} {item.name!r} has authorizationEnabled but not authenticationEnabled, so "
            "authorization never applied: its port gets no authorizationRef"
        )
    elif item.authorization_enabled and authorization is None:
        out.note(
            f"{path} {item.name!r} has authorizationEnabled, but no BrokerAuthorization lists "
            "it, and GA has no default one: its port gets no authorizationRef (add "
            "aio-mq:authorizations and set authorizationRef to restrict it)"
        )
    elif item.authorization_enabled:
        port["authorizationRef"] = authorization
    tls = _tls(out, stack, raw_items[i].get("tls"), item, path)
    if tls is not None:
        port["tls"] = tls
    return port


def _tls(
    out: Migration,
    stack: StackConfig,
    raw_tls: dict[str, Any] | None,
    item: preview.MqListenerArgs,
    path: str,
) -> dict[str, Any] | None:
    tls = item.tls
    if tls is None or raw_tls is None:
        return None
    namespace = item.namespace or stack.namespace
    if tls.key_vault is not None:
        secret = out.decisions.tls_secrets.get(item.name)
        if secret is None:
            out.refuse(
                f"{path}.tls.keyVault",
                "GA listeners have no Key Vault TLS",
                "sync the certificate from Key Vault into a kubernetes.io/tls Secret of the "
                "listener's namespace (Azure IoT Operations' secret sync), then pass "
                f"--tls-secret {item.name}=<that Secret>",
            )
            return None
        out.used.add(("--tls-secret", item.name))
        _declare_existing(
            out,
            "existingSecrets",
            f"{namespace}/{secret}",
            f"{path}: {PROJECT}:existingSecrets declares Secret '{namespace}/{secret}' as "
            "existing (secret sync fills it, not the program), so the guardrails policy pack "
            "accepts the reference",
        )
        out.note(
            f"{path}: Key Vault TLS becomes tls.manual with secretRef {secret!r} "
            f"(--tls-secret): Azure IoT Operations' secret sync must keep certificate "
            f"{tls.key_vault.vault_cert.name!r} of vault {tls.key_vault.vault.name!r} in it"
        )
        return {"mode": "Manual", "manual": {"secretRef": secret}}
    if tls.automatic is not None:
        automatic = tls.automatic
        spec = copy.deepcopy(raw_tls["automatic"])
        _same_namespace(out, f"{path}.tls.automatic", automatic.secret_namespace, namespace)
        spec.pop("secretNamespace", None)
        spec["issuerRef"] = automatic.issuer_ref.cr()
        if automatic.private_key is not None:
            key = automatic.private_key
            algorithm = KEY_ALGORITHMS.get((key.algorithm, key.size))
            if algorithm is None:
                out.refuse(
                    f"{path}.tls.automatic.privateKey",
                    f"GA has no key algorithm for {key.algorithm} {key.size}",
                    "choose one of ECDSA 256/384/521, RSA 2048/4096/8192 or Ed25519",
                )
            spec["privateKey"] = {"algorithm": algorithm, "rotationPolicy": key.rotation_policy}
        return {"mode": "Automatic", "certManagerCertificateSpec": spec}
    manual = copy.deepcopy(raw_tls["manual"])
    assert tls.manual is not None
    _same_namespace(out, f"{path}.tls.manual", tls.manual.secret_namespace, namespace)
    manual.pop("secretNamespace", None)
    manual = {"secretRef": manual.pop("secretName"), **manual}
    return {"mode": "Manual", "manual": manual}


def _declare_existing(out: Migration, key: str, value: str, note: str) -> None:
    """`value` added to `existingSecrets` / `existingIssuers`: an object the GA stack uses
    but does not create, declared so that the guardrails' tls-references-exist accepts it on
    every run (make, CI, a plain preview)."""
    declared: list[str] = out.config.setdefault(key, [])
    if value not in declared:
        declared.append(value)
        out.note(note)


def _same_namespace(
    out: Migration, path: str, secret_namespace: str | None, ns: str, key: str = "secretNamespace"
) -> None:
    if secret_namespace is None:
        return
    if secret_namespace != ns:
        out.refuse(
            f"{path}.{key}",
            f"the Secret is in namespace {secret_namespace!r}, its user in {ns!r}; GA only "
            "reads Secrets of the object's own namespace",
            f"move the Secret to {ns!r} and remove {key}",
        )
    else:
        out.note(f"{path}.{key} {ns!r} is the object's own namespace: left out")


def _existing_listeners(
    out: Migration,
    stack: StackConfig,
    existing: list[preview.ExistingListener],
    manages_default: bool,
) -> None:
    if stack.existing_listeners is None:
        if not manages_default:
            out.note(
                "existingListeners is absent: the GA stack assumes GA's default listener "
                f"{ga.DEFAULT_LISTENER.name!r} ({ga.DEFAULT_LISTENER.service}:18883)"
            )
        return
    groups: dict[_Service, list[preview.ExistingListener]] = {}
    for item in existing:
        if _is_preview_default(item, stack):
            continue
        groups.setdefault(_service_of(item, stack), []).append(item)
    ga_existing: list[dict[str, Any]] = []
    if not manages_default and any(_is_preview_default(e, stack) for e in existing):
        ga_existing.append({"name": ga.DEFAULT_LISTENER.name, **ga.DEFAULT_LISTENER.spec()})
    for service, items in groups.items():
        entry: dict[str, Any] = {"name": items[0].name}
        if items[0].namespace is not None:
            entry["namespace"] = items[0].namespace
        if items[0].broker_ref not in (None, preview.DEFAULT_BROKER):
            entry["brokerRef"] = items[0].broker_ref
        entry["serviceType"] = SERVICE_TYPES[service.service_type]
        entry["serviceName"] = service.service_name
        entry["ports"] = [
            {"port": e.port, **({"nodePort": e.node_port} if e.node_port else {})} for e in items
        ]
        ga_existing.append(entry)
    out.config["existingListeners"] = ga_existing
    out.note(
        "existingListeners: each preview Service becomes the GA listener an operator would "
        "write for it (ports only; the preview default listener becomes GA's 'default'); "
        "compare them with `kubectl get brokerlisteners -A` on the GA cluster"
    )


# --- authentication and authorization ------------------------------------------------------

AUTHENTICATION, AUTHORIZATION = "BrokerAuthentication", "BrokerAuthorization"
PREVIEW_DEFAULT = "the preview default authentication"


@dataclass(frozen=True)
class _Linked:
    """A preview BrokerAuthentication/Authorization as the listeners it lists see it."""

    kind: str
    name: str
    """Its GA name (the preview default `authn` becomes GA's `default`)."""
    namespace: str
    listener_ref: tuple[str, ...]
    origin: str


def _linked(
    out: Migration,
    kind: str,
    item: preview.MqListenerArgs,
    *,
    namespace: str,
    path: str,
    links: list[_Linked],
) -> str | None:
    """The GA name of the one object of `kind` that lists the listener, if any."""
    found = [
        o
        for o in links
        if o.kind == kind and o.namespace == namespace and item.name in o.listener_ref
    ]
    enabled = item.authentication_enabled if kind == AUTHENTICATION else item.authorization_enabled
    if not found:
        return None
    if not enabled:
        out.note(
            f"{path} {item.name!r} is listed by {found[0].origin} but has "
            f"{'authenticationEnabled' if kind == AUTHENTICATION else 'authorizationEnabled'} "
            "false: the link never applied and is not carried over"
        )
        return None
    if len(found) > 1:
        out.refuse(
            path,
            f"{item.name!r} is listed by several {kind}s ({', '.join(o.origin for o in found)}); "
            "a GA port references one",
            f"list {item.name!r} in one {kind} only",
        )
    if found[0].origin == PREVIEW_DEFAULT:
        out.note(
            f"{path} {item.name!r} is listed by the preview default authentication "
            f"{preview_auth.DEFAULT_AUTHENTICATION.name!r} (sat, audience aio-mq): its port uses "
            f"GA's {DEFAULT_AUTHENTICATION.name!r} (ServiceAccountToken, audience aio-internal), "
            "so clients need tokens with audience aio-internal"
        )
    return found[0].name


def _auth(out: Migration, stack: StackConfig) -> list[_Linked]:
    """The GA authentications and authorizations; what links to which listener."""
    links: list[_Linked] = []
    declared: list[tuple[str, str, list[Any]]] = [
        ("authentications", AUTHENTICATION, list(stack.authentications)),
        ("authorizations", AUTHORIZATION, list(stack.authorizations)),
        ("existingAuthentications", AUTHENTICATION, _existing_authentications(stack)),
        ("existingAuthorizations", AUTHORIZATION, list(stack.existing_authorizations or [])),
    ]
    for key, kind, items in declared:
        ga_items: list[dict[str, Any]] = []
        for i, obj in enumerate(items):
            namespace = obj.namespace or stack.namespace
            origin = f"{key}[{i}]"
            if _is_preview_default_authentication(obj, namespace):
                # GA installs its own default authentication: nothing to write.
                refs = tuple(obj.listener_ref)
                links.append(
                    _Linked(kind, DEFAULT_AUTHENTICATION.name, namespace, refs, PREVIEW_DEFAULT)
                )
                continue
            links.append(_Linked(kind, obj.name, namespace, tuple(obj.listener_ref), origin))
            mapped = (
                _authentication(out, obj, origin, namespace)
                if kind == AUTHENTICATION
                else _authorization(out, obj, origin)
            )
            ga_items.append(mapped)
        if key == "existingAuthentications" and stack.existing_authentications is not None:
            # Every GA installation has its own default authentication, whatever the preview had.
            installed = DEFAULT_AUTHENTICATION
            ga_items.insert(0, {"name": installed.name, **installed.spec()})
        if stack.model_fields_set & {_snake(key)}:
            out.config[key] = ga_items
    if stack.authentications or stack.authorizations:
        out.note(
            "listenerRef is gone in GA: each listener's port references its BrokerAuthentication "
            "(authenticationRef) and BrokerAuthorization (authorizationRef) instead"
        )
    return links


def _snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


def _existing_authentications(stack: StackConfig) -> list[Any]:
    if stack.existing_authentications is None:
        return [preview_auth.DEFAULT_AUTHENTICATION]
    return list(stack.existing_authentications)


def _is_preview_default_authentication(obj: Any, namespace: str) -> bool:
    default = preview_auth.DEFAULT_AUTHENTICATION
    return isinstance(obj, preview_auth.ExistingAuthentication) and (obj.name, namespace) == (
        default.name,
        default.namespace,
    )


def _head(obj: Any) -> dict[str, Any]:
    head: dict[str, Any] = {"name": obj.name}
    if obj.namespace is not None:
        head["namespace"] = obj.namespace
    return head


def _authentication(out: Migration, obj: Any, origin: str, namespace: str) -> dict[str, Any]:
    methods: list[dict[str, Any]] = []
    if not obj.authentication_methods:
        out.refuse(
            f"{origin}.authenticationMethods",
            "the methods of this existing BrokerAuthentication are not given, and a GA "
            "BrokerAuthentication is written with them",
            "list its authenticationMethods as on the cluster",
        )
    for k, method in enumerate(obj.authentication_methods):
        path = f"{origin}.authenticationMethods[{k}]"
        if method.sat is not None:
            methods.append(
                {
                    "method": "ServiceAccountToken",
                    "serviceAccountTokenSettings": {"audiences": list(method.sat.audiences)},
                }
            )
        elif method.x509 is not None:
            settings: dict[str, Any] = {"trustedClientCaCert": method.x509.trusted_client_ca_cert}
            if method.x509.attributes is not None:
                settings.update(_x509_attributes(out, obj.name, method.x509.attributes, path))
            methods.append({"method": "X509", "x509Settings": settings})
        elif method.custom is not None:
            methods.append(
                {"method": "Custom", "customSettings": _custom(out, method.custom, path, namespace)}
            )
        else:
            out.refuse(
                f"{path}.usernamePassword",
                "GA has no username/password authentication",
                "move these clients to X.509 client certificates, service account tokens or a "
                "custom auth server, and remove the method",
            )
    return {**_head(obj), "authenticationMethods": methods}


def _x509_attributes(out: Migration, name: str, attributes: Any, path: str) -> dict[str, Any]:
    """GA's inline `authorizationAttributes` for an x509 method whose attributes are in a
    Secret: from the operator's file, checked as GA checks them, or refused."""
    secret = attributes.secret_name
    given = out.decisions.x509_attributes.get(name)
    if given is None:
        out.refuse(
            f"{path}.x509.attributes",
            "GA keeps the attributes of client certificates inline "
            "(x509Settings.authorizationAttributes), not in a Secret",
            f"write the entries of Secret {secret!r} into a YAML file (name: {{subject, "
            f"attributes}}) and pass --x509-attributes {name}=<that file>; or remove "
            "attributes here",
        )
        return {}
    out.used.add(("--x509-attributes", name))
    checked: dict[str, X509Attributes] = {}
    for key, entry in given.items():
        try:
            checked[key] = X509Attributes.model_validate(entry)
        except ValidationError as exc:
            where = f"--x509-attributes {name}: {key}"
            out.refused += problems_from_validation(exc, X509Attributes, where)
    if len(checked) < len(given):
        return {}
    entries = f"{len(checked)} entr{'y' if len(checked) == 1 else 'ies'}"
    out.note(
        f"{path}: the attributes of Secret {secret!r} become x509Settings."
        f"authorizationAttributes ({entries}, --x509-attributes)"
    )
    return {
        "authorizationAttributes": {
            key: value.model_dump(by_alias=True) for key, value in checked.items()
        }
    }


def _custom(out: Migration, custom: Any, path: str, namespace: str) -> dict[str, Any]:
    settings: dict[str, Any] = {"endpoint": custom.endpoint}
    if custom.ca_cert is not None:
        settings["caCertConfigMap"] = custom.ca_cert
    if custom.auth is not None:
        x509 = custom.auth.x509
        _same_namespace(out, f"{path}.custom.auth.x509", x509.namespace, namespace, "namespace")
        settings["auth"] = {"x509": {"secretRef": x509.secret_name}}
    if custom.headers:
        settings["headers"] = dict(custom.headers)
    return settings


def _authorization(out: Migration, obj: Any, origin: str) -> dict[str, Any]:
    policies = obj.authorization_policies
    if policies is None:
        out.refuse(
            f"{origin}.authorizationPolicies",
            "the policies of this existing BrokerAuthorization are not given, and a GA "
            "BrokerAuthorization is written with them",
            "give its authorizationPolicies as on the cluster",
        )
        return _head(obj)
    rules = []
    for rule in policies.rules:
        principals = rule.principals
        given = {
            "attributes": principals.attributes,
            "clientIds": principals.clientids,
            "usernames": principals.usernames,
        }
        rules.append(
            {
                "principals": {key: value for key, value in given.items() if value},
                "brokerResources": [
                    {"method": r.method, **({"topics": list(r.topics)} if r.topics else {})}
                    for r in rule.broker_resources
                ],
            }
        )
    cache = "Enabled" if policies.enable_cache else "Disabled"
    out.note(f"{origin}: enableCache {str(policies.enable_cache).lower()} becomes cache {cache}")
    return {**_head(obj), "authorizationPolicies": {"cache": cache, "rules": rules}}


# --- the stack file ------------------------------------------------------------------------


def migrate_stack_file(text: str, decisions: Decisions | None = None) -> tuple[str, list[str]]:
    """The GA stack file for a preview stack file's text, and the notes. Raises ConfigError
    with every item that cannot be carried over.

    The file is read as Pulumi reads it (components/stack_file.py: what `pulumi config set`
    writes back reads the same) and rewritten in place: keys carried over keep their text and
    comments; the comments lost with the keys rewritten for GA are listed in the notes."""
    try:
        document = stack_file.load(text)
    except stack_file.StackFileError as exc:
        raise ConfigError(
            [Problem("", f"the preview stack file is {exc}", "give a Pulumi stack file")],
            "the preview stack file",
            "nothing was written",
        ) from None
    raw = stack_file.project_config(document)
    migration = migrate_config(raw, decisions)
    if "listeners" not in raw and raw.get("apiVersion", preview.API_VERSION) == preview.API_VERSION:
        # As the program refuses it: an empty or cut-short file is no stack to carry over.
        migration.refuse(
            f"{PROJECT}:listeners",
            "required key is missing",
            f"migrate the stack file that lists the listeners ({PROJECT}:listeners: [] for none)",
        )
    if not migration.refused:
        try:
            validate_config(_without_secure_values(migration.config))
        except ConfigError as exc:
            migration.refused += exc.problems
    if migration.refused:
        raise ConfigError(
            migration.refused,
            f"{PROJECT}:* of the preview stack",
            "nothing was written (migrate-to-v1 carries a stack over whole or not at all)",
        )
    _rewrite(document, migration.config)
    output = _with_header(stack_file.dump(document))
    return output, migration.notes + _lost_comments(text, output, migration.config)


def _rewrite(document: CommentedMap, migrated: dict[str, Any]) -> None:
    """The `aio-mq:*` keys of `document` made `migrated`, in place: a key kept as it was keeps
    its node (text, quoting, comments); one the migration changed gets the new value, and the
    comments inside the old one go with it; new keys follow the others, apiVersion first."""
    if "config" not in document:
        document.insert(0, "config", CommentedMap())
    config = stack_file.config_of(document)
    prefix = f"{PROJECT}:"
    for full in [k for k in config if str(k).startswith(prefix)]:
        if str(full).removeprefix(prefix) not in migrated:
            del config[full]
    for key, value in migrated.items():
        full = prefix + key
        if full not in config:
            config[full] = value
        elif stack_file.as_program_gets(full, config[full]) != value:
            _merge(config, full, value)
    # The comment before the first key is about that key: keep it there, not above apiVersion.
    first = next(iter(config), None)
    start = config.ca.comment
    if first is not None and start and start[1]:
        lines = [line.strip() for token in start[1] for line in str(token.value).splitlines()]
        config.ca.comment = None
        document.ca.items.pop("config", None)
        config.yaml_set_comment_before_after_key(
            first,
            before="\n".join(line.removeprefix("#").removeprefix(" ") for line in lines if line),
            indent=start[1][0].start_mark.column,
        )
    config.move_to_end(f"{prefix}apiVersion", last=False)


def _merge(parent: CommentedMap, key: str, value: Any) -> None:
    """`parent[key] = value`, keeping the nodes (and their comments) of the old value that
    `value` leaves as they were; the comments on a replaced node go with it."""
    node = parent[key]
    if isinstance(node, CommentedMap) and isinstance(value, dict):
        for gone in [k for k in node if k not in value]:
            del node[gone]
        for name, item in value.items():
            if name not in node:
                node[name] = item
            elif stack_file.plain(node[name]) != item:
                _merge(node, name, item)
        return
    parent.ca.items.pop(key, None)
    parent[key] = value


def _with_header(text: str) -> str:
    schema = "# yaml-language-server: $schema=../schema/stack-config.schema.json\n"
    written = "# Written by tools/migrate-to-v1 from a preview (v1beta1) stack file.\n"
    if text.startswith(schema):
        return schema + written + text.removeprefix(schema)
    return schema + written + text


def _lost_comments(before: str, after: str, migrated: dict[str, Any]) -> list[str]:
    """A note for each comment of the preview file that the GA file does not have, with its
    line and the key it was in."""
    kept = Counter(stack_file.comments(stack_file.load(after)))
    config = stack_file.config_of(stack_file.load(before))
    keys = sorted((config.lc.key(key)[0] + 1, str(key)) for key in config)
    lines = before.splitlines()
    used: set[int] = set()
    notes = []
    for text in stack_file.comments(stack_file.load(before)):
        line = next(
            (i + 1 for i, ln in enumerate(lines) if i not in used and ln.rstrip().endswith(text)),
            0,
        )
        used.add(line - 1)
        if kept[text]:
            kept[text] -= 1
            continue
        owner = [key for start, key in keys if start <= line]
        if owner:
            fate = "rewritten" if owner[-1].removeprefix(f"{PROJECT}:") in migrated else "left out"
            where = f" (in {owner[-1]}, {fate} for GA)"
        else:
            where = ""
        notes.append((line, f"line {line}: comment not kept{where}: {text}"))
    return [note for _, note in sorted(notes)]


def _pair(value: str) -> tuple[str, str]:
    name, equals, target = value.partition("=")
    if not (name and equals and target):
        raise argparse.ArgumentTypeError(f"{value!r} is not NAME=VALUE")
    return name, target


def _arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tools/migrate-to-v1",
        description="Write the GA (mqttbroker.iotoperations.azure.com/v1) form of a preview "
        "stack file to stdout, a note per decision to stderr; what cannot be carried over is "
        "listed, nothing is written and the exit status is 1.",
        epilog="e.g. tools/migrate-to-v1 stacks/Pulumi.staging.yaml > "
        "stacks/Pulumi.staging-ga.yaml",
    )
    parser.add_argument("stack_file", type=Path, help="a preview stack file")
    parser.add_argument(
        "--tls-secret",
        type=_pair,
        action="append",
        default=[],
        metavar="LISTENER=SECRET",
        help="a listener with Key Vault TLS: the kubernetes.io/tls Secret of its namespace that "
        "Azure IoT Operations' secret sync fills with its certificate (becomes manual TLS)",
    )
    parser.add_argument(
        "--x509-attributes",
        type=_pair,
        action="append",
        default=[],
        metavar="AUTHENTICATION=FILE",
        help="a BrokerAuthentication whose x509 method keeps its attributes in a Secret: a YAML "
        "file with that Secret's entries as name: {subject, attributes} (written inline)",
    )
    parser.add_argument(
        "--stack",
        type=_stack_name,
        metavar="NAME",
        help="the GA stack's name, whose stack file the output becomes (default: the preview "
        "stack's name with -ga); a render stack renders into rendered/NAME",
    )
    return parser


def _stack_name(value: str) -> str:
    if not _STACK_NAME.fullmatch(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a stack name (letters, digits, '-', '_' and '.')"
        )
    return value


_STACK_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_STACK_FILE = re.compile(r"Pulumi\.([A-Za-z0-9_.-]+)\.yaml")


def parse_arguments(argv: list[str]) -> tuple[Path, Decisions]:
    """The stack file and the decisions of a command line (argparse exits 2 when it is wrong)."""
    parser = _arguments()
    args = parser.parse_args(argv)
    attributes: dict[str, Mapping[str, Any]] = {}
    for name, file in args.x509_attributes:
        try:
            loaded = yaml.safe_load(Path(file).read_text())
        except (OSError, yaml.YAMLError) as exc:
            parser.error(f"--x509-attributes {name}={file}: cannot read it: {exc}")
        if not isinstance(loaded, dict):
            parser.error(
                f"--x509-attributes {name}={file}: not a YAML mapping of name: "
                "{subject, attributes}"
            )
        attributes[name] = loaded
    stack = args.stack
    if stack is None:
        named = _STACK_FILE.fullmatch(args.stack_file.name)
        stack = f"{named.group(1)}-ga" if named else None
    return args.stack_file, Decisions(dict(args.tls_secret), attributes, stack)


def main(argv: list[str]) -> int:
    path, decisions = parse_arguments(argv)
    try:
        text = path.read_text()
    except OSError as exc:
        print(f"migrate-to-v1: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        output, notes = migrate_stack_file(text, decisions)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    if decisions.stack is not None:
        target = path.with_name(f"Pulumi.{decisions.stack}.yaml")
        notes.insert(
            0,
            f"this is stack {decisions.stack!r}: write it to {target}"
            + (
                " (which exists: that replaces it; --stack NAME names another)"
                if target.exists()
                else ""
            ),
        )
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    sys.stdout.write(output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
