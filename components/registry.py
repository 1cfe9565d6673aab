"""The listeners of one Pulumi program, so that `MqListener`s and `MqListenerV1`s created one by
one are checked against each other and against the listeners already on the cluster, by the
rules of their API version (`ListenerRules`: the preview API's here, GA's in
components/v1/registry.py); and the preview BrokerAuthentications/Authorizations that link to
them (`authlinks`).

Pulumi sends a resource's registration only when the event loop next runs, which for an
ordinary program is after its top-level code has finished. Every MqListener waits on a gate
that opens at that point: if any listener of the program was refused meanwhile, the gate fails
and none of them is registered, so a conflict found at the fifth listener does not leave the
first four deployed. The links between listeners and BrokerAuthentications/Authorizations are
checked when the gate opens too, since either side may be created first.

The stack program needs no gate: it checks all its listeners and objects (`admit_all`,
`admit_auth`, `links`) before it creates its first resource and then `seal`s the registry, after
which the gate is no dependency at all and the components it creates find themselves checked.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, NoReturn, Protocol, TypeVar

import pulumi
from pulumi.runtime.settings import get_monitor
from pydantic import BaseModel, ValidationError

from .errors import ConfigError, Problem, problems_from_validation
from .spec import DEFAULT_NAMESPACE
from .v1beta1 import authlinks
from .v1beta1.auth import (
    DEFAULT_AUTHENTICATION,
    ExistingAuthentication,
    ExistingAuthorization,
    MqAuthenticationArgs,
    MqAuthorizationArgs,
)
from .v1beta1.authlinks import AuthObject, LinkedListener, Links
from .v1beta1.models import API_VERSION as V1BETA1
from .v1beta1.models import DEFAULT_BROKER, DEFAULT_LISTENER, ExistingListener
from .v1beta1.sharing import Conflict, Listener, SharingIndex


class ListenerFacts(Protocol):
    """What the registry reads of any API's listener facts (the rules read the rest)."""

    @property
    def name(self) -> str: ...
    @property
    def origin(self) -> str: ...


A = TypeVar("A", bound=BaseModel)


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


@dataclass(frozen=True)
class CheckedListener(Generic[A]):
    """A listener as the stack program checks it before creating anything."""

    resource_name: str
    args: A
    facts: ListenerFacts
    problems: Sequence[Problem]
    links: LinkedListener | None
    """What the preview link checks look at (GA ports name their objects instead)."""


def conflict_problems(conflicts: Iterable[Conflict]) -> list[Problem]:
    return [Problem("", str(conflict), conflict.fix) for conflict in conflicts]


@dataclass(frozen=True)
class ListenerRules:
    """One API version's listener rules, as the registry applies them (GA: components/v1/
    registry.py)."""

    api_version: str
    index: Callable[[], Callable[[Any], list[Problem]]]
    """A new index of one program's listeners: its function records a listener and returns the
    rules it breaks against the earlier ones."""
    assumed_existing: Callable[[Any], tuple[list[Any], list[LinkedListener]]]
    """The existing listeners (rule and link facts) when none were declared, given the first
    listener admitted."""


@dataclass
class _Applied:
    """One API version's rules in one program."""

    check: Callable[[Any], list[Problem]]
    existing_declared: bool = field(default=False)


def _preview_index() -> Callable[[Any], list[Problem]]:
    index = SharingIndex()
    # Two live listeners that clash are the cluster's business, not this program's.
    return lambda listener: conflict_problems(
        c for c in index.add(listener) if not (c.new.on_cluster and c.other.on_cluster)
    )


PREVIEW_RULES = ListenerRules(
    V1BETA1,
    _preview_index,
    lambda _first: (existing_facts([DEFAULT_LISTENER]), existing_link_facts([DEFAULT_LISTENER])),
)
"""The preview API's rules: components/v1beta1/sharing.py, the documented default listener."""


M = TypeVar("M", bound=BaseModel)
LINKS_SUBJECT = "the authentication and authorization of the listeners"


class ProgramListeners:
    """Listeners admitted so far in this program, and the gate their registrations wait on."""

    def __init__(self) -> None:
        self._rules: dict[str, _Applied] = {}
        self._failure: ConfigError | None = None
        self._gate: asyncio.Future[list[pulumi.Resource]] | None = None
        self._gate_output: pulumi.Output[list[pulumi.Resource]] | None = None
        self._listener_links: list[LinkedListener] = []
        self._existing_auth: list[AuthObject] | None = None
        self._auth: list[AuthObject] = []
        self._auth_resources: dict[tuple[str, str], list[pulumi.Resource]] = defaultdict(list)
        self._links: Links | None = None
        """The last link check; None when facts were added since."""
        self._resource_names: dict[str, ListenerFacts] = {}
        self._checked: dict[tuple[type[BaseModel], str], BaseModel] = {}
        """Args checked up front by the stack program, by (args type, Pulumi name)."""
        self._sealed = False
        self.on_cluster = False
        """Whether the program's provider is known to talk to a cluster, not render YAML: set
        by the stack program in cluster mode and by `discover_existing_listeners_v1`. A patch
        of an object renders into that object's own file, so patches need a cluster."""

    def _rules_of(self, rules: ListenerRules) -> _Applied:
        if rules.api_version not in self._rules:
            self._rules[rules.api_version] = _Applied(rules.index())
        return self._rules[rules.api_version]

    def declare_existing(
        self,
        listeners: Sequence[ListenerFacts],
        links: Sequence[LinkedListener] = (),
        rules: ListenerRules = PREVIEW_RULES,
    ) -> None:
        """The listeners on the cluster of one API version: their sharing facts, and (preview
        API) their link-check facts."""
        applied = self._rules_of(rules)
        if applied.existing_declared:
            raise pulumi.RunError(
                "aio-mq: existing listeners must be declared once, before the first MqListener "
                "(MqListenerV1 for the GA API) is created"
            )
        applied.existing_declared = True
        self._listener_links[:0] = links
        self._links = None
        found = [problem for listener in listeners for problem in applied.check(listener)]
        if found:
            self.refuse(ConfigError(found, "the existing listeners"))

    def validated(self, args: M | Mapping[str, Any], model: type[M], origin: str, name: str) -> M:
        """`args` as `model`; invalid args are refused (nothing of the program is registered),
        the problems located under `origin`."""
        try:
            return args if isinstance(args, model) else model.model_validate(args)
        except ValidationError as exc:
            self.refuse(
                ConfigError(
                    problems_from_validation(exc, model, origin),
                    f"{origin or model.__name__.removesuffix('Args')} {name!r}",
                )
            )

    def admit(
        self,
        resource_name: str,
        listener: ListenerFacts,
        problems: Sequence[Problem] = (),
        links: LinkedListener | None = None,
        rules: ListenerRules = PREVIEW_RULES,
        *,
        kind: str = "MqListener",
    ) -> None:
        """Check `listener` against all earlier ones of its API version. Its own `problems`, if
        any, and its conflicts are raised together, and then no listener of this program is
        registered. Reported under the listener's key path, or else its `kind` and name."""
        found = self._check(resource_name, listener, problems, links, rules)
        if found:
            self.refuse(ConfigError(found, f"{listener.origin or kind} {listener.name!r}"))

    def admit_all(
        self,
        listeners: Sequence[CheckedListener[Any]],
        problems: Sequence[Problem] = (),
        rules: ListenerRules = PREVIEW_RULES,
    ) -> None:
        """Check a whole set of listeners before any resource exists and raise one ConfigError
        with every problem (`problems` found before, e.g. by the pre-flight checks, first; the
        links' problems, once the objects are admitted too). The MqListeners created afterwards
        from the same args are not checked again."""
        found = [*problems]
        found += [
            problem
            for item in listeners
            for problem in self._check(
                item.resource_name, item.facts, item.problems, item.links, rules
            )
        ]
        found += self.links().problems
        if found:
            self.refuse(ConfigError(found))
        for item in listeners:
            self.mark_checked(item.resource_name, item.args)

    def mark_checked(self, resource_name: str, args: BaseModel) -> None:
        """`args` were checked up front: the component created from them under this name
        skips its own checks."""
        self._checked[(type(args), resource_name)] = args

    def checked(self, resource_name: str, args: BaseModel) -> bool:
        """Whether exactly these args were checked up front under this name."""
        return self._checked.get((type(args), resource_name)) is args

    def seal(self) -> None:
        """Everything of the program has been checked: from now on nothing waits on the gate."""
        self._sealed = True

    def _check(
        self,
        resource_name: str,
        listener: ListenerFacts,
        problems: Sequence[Problem],
        links: LinkedListener | None,
        rules: ListenerRules,
    ) -> list[Problem]:
        applied = self._rules_of(rules)
        if not applied.existing_declared:
            self.declare_existing(*rules.assumed_existing(listener), rules=rules)
        if links is not None:
            self._listener_links.append(links)
            self._links = None
        found = [*problems, *applied.check(listener)]
        named = self._resource_names.setdefault(resource_name, listener)
        if named is not listener:
            found.append(
                Problem(
                    listener.origin,
                    f"the Pulumi resource name {resource_name!r} of {listener} is already "
                    f"used by {named}; Pulumi names must be unique in a stack",
                    "give each MqListener its own resource name, e.g. '<namespace>/<name>'",
                )
            )
        return found

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
        if self._sealed:
            return list(self._auth_resources.get((namespace, name), []))
        return self._gate_opening().apply(
            lambda _: list(self._auth_resources.get((namespace, name), []))
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

    def refuse(self, error: ConfigError) -> NoReturn:
        """Fail the program with `error`: nothing waiting on the gate is registered. A later
        call replaces the error, so a caller that gathers several reports them all."""
        self._failure = error
        raise error

    def gate(self) -> pulumi.Input[list[pulumi.Resource]]:
        """An input for `depends_on` that holds a registration until the program's listeners
        are known to be valid: nothing once the registry is sealed."""
        return [] if self._sealed else self._gate_opening()

    def _gate_opening(self) -> pulumi.Output[list[pulumi.Resource]]:
        if self._gate is None or self._gate.done() or self._gate_output is None:
            loop = asyncio.get_event_loop()
            self._gate = loop.create_future()
            loop.call_soon(self._decide, self._gate)
            self._gate_output = pulumi.Output.from_input(self._gate)
        return self._gate_output

    def _decide(self, gate: asyncio.Future[list[pulumi.Resource]]) -> None:
        if self._failure is None and self.links().problems:
            self._failure = ConfigError(self.links().problems, LINKS_SUBJECT)
        if self._failure is not None:
            gate.set_exception(self._failure)
        else:
            gate.set_result([])


# Keyed by the engine connection, so each program run (and each mocked test) starts afresh.
_programs: weakref.WeakKeyDictionary[Any, ProgramListeners] = weakref.WeakKeyDictionary()


def program_listeners() -> ProgramListeners:
    """The registry of the Pulumi program that is running now."""
    monitor = get_monitor()
    if monitor is None:
        raise pulumi.RunError("aio-mq: listeners can only be declared while a Pulumi program runs")
    return _programs.setdefault(monitor, ProgramListeners())


def parse_items(
    items: Iterable[M | Mapping[str, Any]], model: type[M], key: str, subject: str
) -> list[M]:
    """Each item as `model` (models pass as they are); one ConfigError for all bad items,
    located at `key[i]`."""
    parsed: list[M] = []
    problems: list[Problem] = []
    for i, item in enumerate(items):
        try:
            parsed.append(item if isinstance(item, model) else model.model_validate(item))
        except ValidationError as exc:
            problems += problems_from_validation(exc, model, f"{key}[{i}]")
    if problems:
        raise ConfigError(problems, subject)
    return parsed


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
        existing_facts(parsed, namespace, broker_ref), existing_link_facts(parsed, namespace)
    )
