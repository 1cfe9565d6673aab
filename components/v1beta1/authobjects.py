"""`MqAuthentication` and `MqAuthorization`: one BrokerAuthentication / BrokerAuthorization
custom resource each, checked with the program's listeners (authlinks.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

import pulumi
import pulumi_kubernetes as k8s

from ..metadata import object_metadata, resource_name
from ..registry import parse_items, program_listeners
from ..spec import DEFAULT_NAMESPACE
from . import authlinks
from .auth import (
    ExistingAuthentication,
    ExistingAuthorization,
    MqAuthenticationArgs,
    MqAuthorizationArgs,
)
from .models import API_VERSION
from .registry import auth_facts, auth_links, existing_auth_facts

A = TypeVar("A", MqAuthenticationArgs, MqAuthorizationArgs)


class _LinkedObject(pulumi.ComponentResource, Generic[A]):
    """What both kinds share: validate, admit to the program's registry, create the CR."""

    kind: ClassVar[authlinks.Kind]
    type_token: ClassVar[str]
    args_type: ClassVar[type[Any]]

    def __init__(
        self,
        resource_name: str,
        args: A | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
        *,
        origin: str = "",
    ) -> None:
        registry = program_listeners()
        parsed: A = registry.validated(args, self.args_type, origin, resource_name)
        resolved = parsed.resolved(DEFAULT_NAMESPACE)
        facts = auth_facts(
            resolved, DEFAULT_NAMESPACE, origin or f"{type(self).__name__}({resource_name!r})"
        )
        if not registry.checked(resource_name, parsed):  # the stack program checks up front
            auth_links(registry).admit_auth(facts)

        opts = opts or pulumi.ResourceOptions()
        super().__init__(
            self.type_token,
            resource_name,
            None,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=registry.gate())),
        )
        self.object_name: str = resolved.name
        self.namespace: str = facts.namespace
        self.listener_ref: list[str] = list(resolved.listener_ref)
        self.custom_resource: k8s.apiextensions.CustomResource = k8s.apiextensions.CustomResource(
            resource_name,
            api_version=API_VERSION,
            kind=self.kind,
            metadata=object_metadata(resolved.name, facts.namespace),
            spec=resolved.spec(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=opts.depends_on),
        )
        auth_links(registry).serves(facts, self.custom_resource)
        self.register_outputs({})


class MqAuthentication(_LinkedObject[MqAuthenticationArgs]):
    """An Azure IoT MQ BrokerAuthentication: how clients of the listed listeners authenticate.

    `args` is an `MqAuthenticationArgs` or a mapping with the keys of an item of
    `aio-mq:authentications` (without `namespace`, `azure-iot-operations` applies). Before
    anything is registered it is validated and, once the program's top-level code has run,
    checked with the program's listeners and the existing objects (`declare_existing_auth`):
    any problem raises a `ConfigError`, and nothing of the program is registered. The
    listeners it lists are created after it.
    """

    kind = authlinks.AUTHENTICATION
    type_token = "aio:mq:MqAuthentication"
    args_type = MqAuthenticationArgs


class MqAuthorization(_LinkedObject[MqAuthorizationArgs]):
    """An Azure IoT MQ BrokerAuthorization: what clients of the listed listeners may do.
    Checked and ordered like `MqAuthentication`."""

    kind = authlinks.AUTHORIZATION
    type_token = "aio:mq:MqAuthorization"
    args_type = MqAuthorizationArgs


def declare_existing_auth(
    authentications: Iterable[ExistingAuthentication | Mapping[str, Any]] | None = None,
    authorizations: Iterable[ExistingAuthorization | Mapping[str, Any]] | None = None,
    namespace: str = DEFAULT_NAMESPACE,
) -> None:
    """Declare the BrokerAuthentications/Authorizations already on the cluster. Call it once,
    before the first MqAuthentication or MqAuthorization. Without it (or with None) the
    deployment's `authn` (listenerRef [listener], SAT audience aio-mq) and no authorization
    are assumed; pass [] for none."""
    subject = "declare_existing_auth"
    auth_links().declare_existing_auth(
        existing_auth_facts(
            None
            if authentications is None
            else parse_items(
                authentications, ExistingAuthentication, "existingAuthentications", subject
            ),
            None
            if authorizations is None
            else parse_items(
                authorizations, ExistingAuthorization, "existingAuthorizations", subject
            ),
            namespace,
        )
    )


def admit_stack_auth(
    namespace: str,
    *,
    authentications: Sequence[MqAuthenticationArgs],
    authorizations: Sequence[MqAuthorizationArgs],
    existing: Sequence[authlinks.AuthObject],
) -> Callable[[pulumi.ResourceOptions], None]:
    """Admit the stack's `aio-mq:authentications`/`authorizations` and the `existing` ones
    (declared or discovered) to the program's registry now, before anything is created; return
    what creates them later."""
    registry = program_listeners()
    auth_links(registry).declare_existing_auth(existing)
    kinds: list[tuple[str, type[_LinkedObject[Any]], Sequence[Any]]] = [
        ("authentications", MqAuthentication, authentications),
        ("authorizations", MqAuthorization, authorizations),
    ]
    planned = []
    for key, component, items in kinds:
        for i, item in enumerate(items):
            args = item.resolved(namespace)
            name = resource_name(args.name, str(args.namespace), namespace)
            auth_links(registry).admit_auth(auth_facts(args, namespace, f"{key}[{i}]"))
            registry.mark_checked(name, args)
            planned.append((component, name, args, f"{key}[{i}]"))

    def create(opts: pulumi.ResourceOptions) -> None:
        for component, name, args, origin in planned:
            component(name, args, opts, origin=origin)

    return create
