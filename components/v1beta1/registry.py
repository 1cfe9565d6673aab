"""The preview API's listener rules as a program's registry applies them (components/registry.py):
the sharing rules with the documented default listener, and the links between listeners and
BrokerAuthentications/Authorizations (`authlinks`), checked when the gate opens since either
side may be created first; and how a composition declares what already exists.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pulumi

from ..errors import ConfigError, Problem
from ..registry import ListenerRules, ProgramListeners, parse_items, program_listeners
from ..spec import DEFAULT_NAMESPACE
from . import authlinks
from .auth import (
    DEFAULT_AUTHENTICATION,
    ExistingAuthentication,
    ExistingAuthorization,
    MqAuthenticationArgs,
    MqAuthorizationArgs,
)
from .authlinks import AuthObject, LinkedListener, Links
from .models import API_VERSION, DEFAULT_BROKER, DEFAULT_LISTENER, ExistingListener
from .sharing import Conflict, Listener, SharingIndex

LINKS_SUBJECT = "the authentication and authorization of the listeners"


def _existing_origin(i: int, listener: ExistingListener, origin: str) -> str:
    return f"{origin}[{i}]" if listener is not DEFAULT_LISTENER else "the default listener"


def existing_facts(
    listeners: Sequence[ExistingListener],
    namespace: str = DEFAULT_NAMESPACE,
    broker: str = DEFAULT_BROKER,
    origin: str = "existingListeners",
) -> list[Listener]:
    """Rule facts for existing listeners, namespace and broker defaulted as given."""
    return [
        Listener(
            name=e.name,
            namespace=e.namespace or namespace,
            broker=e.broker_ref or broker,
            port=e.port,
            service_type=e.service_type,
            service_name=e.service_name,
            node_port=e.node_port,
            origin=_existing_origin(i, e, origin),
        )
        for i, e in enumerate(listeners)
    ]


def existing_link_facts(
    listeners: Sequence[ExistingListener],
    namespace: str = DEFAULT_NAMESPACE,
    origin: str = "existingListeners",
) -> list[LinkedListener]:
    """Link-check facts for existing listeners, namespace defaulted as given."""
    return [
        LinkedListener(
            name=e.name,
            namespace=e.namespace or namespace,
            authentication=e.authentication_enabled,
            authorization=e.authorization_enabled,
            tls=e.tls is not None,
            origin=_existing_origin(i, e, origin),
            existing=True,
        )
        for i, e in enumerate(listeners)
    ]


def auth_facts(
    obj: MqAuthenticationArgs
    | MqAuthorizationArgs
    | ExistingAuthentication
    | ExistingAuthorization,
    namespace: str,
    origin: str,
) -> AuthObject:
    """Link-check facts for a BrokerAuthentication/Authorization, namespace defaulted as given."""
    methods = (
        obj.authentication_methods
        if isinstance(obj, MqAuthenticationArgs | ExistingAuthentication)
        else None
    )
    return AuthObject(
        kind=authlinks.AUTHENTICATION if methods is not None else authlinks.AUTHORIZATION,
        name=obj.name,
        namespace=obj.namespace or namespace,
        listener_ref=tuple(obj.listener_ref),
        origin=origin,
        existing=isinstance(obj, ExistingAuthentication | ExistingAuthorization),
        x509=next((k for k, m in enumerate(methods or []) if m.x509 is not None), None),
    )


def existing_auth_facts(
    authentications: Sequence[ExistingAuthentication] | None,
    authorizations: Sequence[ExistingAuthorization] | None,
    namespace: str = DEFAULT_NAMESPACE,
) -> list[AuthObject]:
    """Facts for the objects already on the cluster. Authentications None: the one every
    deployment has (`authn`); authorizations None: none."""
    facts = (
        [auth_facts(DEFAULT_AUTHENTICATION, namespace, "on the cluster by default")]
        if authentications is None
        else [
            auth_facts(obj, namespace, f"existingAuthentications[{i}]")
            for i, obj in enumerate(authentications)
        ]
    )
    return facts + [
        auth_facts(obj, namespace, f"existingAuthorizations[{i}]")
        for i, obj in enumerate(authorizations or [])
    ]


def conflict_problems(conflicts: Iterable[Conflict]) -> list[Problem]:
    return [Problem("", str(conflict), conflict.fix) for conflict in conflicts]


class AuthLinks:
    """The links of one program: its listeners' and the existing listeners' link facts, the
    existing and declared BrokerAuthentications/Authorizations, and the resources that create
    them. Checked when the registry's gate opens."""

    def __init__(self, registry: ProgramListeners) -> None:
        self._registry = registry
        self._listener_links: list[LinkedListener] = []
        self._existing_auth: list[AuthObject] | None = None
        self._auth: list[AuthObject] = []
        self._auth_resources: dict[tuple[str, str], list[pulumi.Resource]] = defaultdict(list)
        self._links: Links | None = None
        """The last link check; None when facts were added since."""
        registry.check_at_gate(self._gate_error)

    def existing_listeners(self, links: Sequence[LinkedListener]) -> None:
        self._listener_links[:0] = links
        self._links = None

    def listener(self, links: LinkedListener) -> None:
        self._listener_links.append(links)
        self._links = None

    def declare_existing_auth(self, objects: Sequence[AuthObject]) -> None:
        """The BrokerAuthentications/Authorizations on the cluster (without this call: what
        every deployment has)."""
        if self._existing_auth is not None:
            raise pulumi.RunError(
                "aio-mq: existing authentications and authorizations must be declared once, "
                "before the first MqAuthentication or MqAuthorization is created"
            )
        self._existing_auth = list(objects)
        self._links = None

    def admit_auth(self, obj: AuthObject) -> None:
        """Record a BrokerAuthentication/Authorization of the program; its links are checked
        when the gate opens (or on `links()`)."""
        if self._existing_auth is None:
            self.declare_existing_auth(existing_auth_facts(None, None))
        self._auth.append(obj)
        self._links = None

    def serves(self, obj: AuthObject, resource: pulumi.Resource) -> None:
        """`resource` creates `obj`: the listeners it lists are created after it."""
        for name in obj.listener_ref:
            self._auth_resources[(obj.namespace, name)].append(resource)

    def created_before(self, namespace: str, name: str) -> pulumi.Input[list[pulumi.Resource]]:
        """The resources that create the listener's linked objects: once sealed, those created
        so far; before, the gate, resolving to them once every object is known."""
        return self._registry.after_gate(
            lambda: list(self._auth_resources.get((namespace, name), []))
        )

    def links(self) -> Links:
        """The link check over everything declared so far; warnings are logged once."""
        if self._links is None:
            existing = self._existing_auth
            if existing is None:
                existing = existing_auth_facts(None, None)
            objects = [*existing, *self._auth]
            self._links = authlinks.check(
                self._listener_links,
                [o for o in objects if o.kind == authlinks.AUTHENTICATION],
                [o for o in objects if o.kind == authlinks.AUTHORIZATION],
            )
            for warning in self._links.warnings:
                pulumi.log.warn(f"aio-mq: {warning}")
        return self._links

    def _gate_error(self) -> ConfigError | None:
        problems = self.links().problems
        return ConfigError(problems, LINKS_SUBJECT) if problems else None


def auth_links(registry: ProgramListeners | None = None) -> AuthLinks:
    """The links of the running program (or of `registry`)."""
    return (registry or program_listeners()).extra(AuthLinks)


def _preview_index() -> Callable[[Any], list[Problem]]:
    index = SharingIndex()
    # Two live listeners that clash are the cluster's business, not this program's.
    return lambda listener: conflict_problems(
        c for c in index.add(listener) if not (c.new.on_cluster and c.other.on_cluster)
    )


PREVIEW_RULES = ListenerRules(
    API_VERSION,
    _preview_index,
    lambda _first: (existing_facts([DEFAULT_LISTENER]), existing_link_facts([DEFAULT_LISTENER])),
    on_existing=lambda registry, links: auth_links(registry).existing_listeners(links),
    on_admit=lambda registry, links: auth_links(registry).listener(links),
)
"""The preview API's rules: components/v1beta1/sharing.py, the documented default listener."""


def declare_existing_listeners(
    listeners: Iterable[ExistingListener | Mapping[str, Any]],
    namespace: str = DEFAULT_NAMESPACE,
    broker_ref: str = DEFAULT_BROKER,
) -> None:
    """Declare the listeners already on the cluster that this program's MqListeners must
    coexist with. Call it once, before the first MqListener; without it the documented default
    listener (`listener`, port 8883, clusterIp, aio-mq-dmqtt-frontend) is assumed. Pass an
    empty list for a broker without it. Namespace and broker default as given.
    `discover_existing_listeners` reads them from the cluster instead.
    """
    parsed = parse_items(
        listeners, ExistingListener, "existingListeners", "declare_existing_listeners"
    )
    program_listeners().declare_existing(
        existing_facts(parsed, namespace, broker_ref),
        existing_link_facts(parsed, namespace),
        rules=PREVIEW_RULES,
    )
