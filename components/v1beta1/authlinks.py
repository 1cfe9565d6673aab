"""How BrokerAuthentications and BrokerAuthorizations link to BrokerListeners (v1beta1): the
link is the object's `listenerRef`, the listener only has its two switches. Checked over the
listeners and objects of a program plus those already on the cluster
(../shared/reference/aio-mq-v1beta1-auth.md):

  1  a listener with authenticationEnabled is listed by exactly one BrokerAuthentication;
  2  a listener is listed by at most one BrokerAuthorization;
  3  every listenerRef entry names a listener of the object's own namespace;
  4  an x509 method does not serve a listener without TLS (the client certificate is
     presented in the TLS handshake);
  5  authorizationEnabled needs authenticationEnabled and a linked BrokerAuthorization;
  6  a link without effect (the listener's switch is off) is a warning, not an error;
  7  shapes (Publish/Subscribe without topics, unknown methods, empty lists, a custom endpoint
     that is not https) are the models' business, in `auth`;
  Names  an object's name is used once per kind and namespace.

Only what involves something the program creates is reported: objects that are all on the
cluster already are not the program's to fix. Pure: no Pulumi, no I/O.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ..errors import Problem, join_path

AUTHENTICATION: Literal["BrokerAuthentication"] = "BrokerAuthentication"
AUTHORIZATION: Literal["BrokerAuthorization"] = "BrokerAuthorization"
Kind = Literal["BrokerAuthentication", "BrokerAuthorization"]

_WHERE = {
    AUTHENTICATION: "aio-mq:authentications, or aio-mq:existingAuthentications for one on the "
    "cluster",
    AUTHORIZATION: "aio-mq:authorizations, or aio-mq:existingAuthorizations for one on the cluster",
}


@dataclass(frozen=True)
class LinkedListener:
    """What the checks read of a listener."""

    name: str
    namespace: str
    authentication: bool
    authorization: bool
    tls: bool
    origin: str = ""
    """Key path of its declaration (`listeners[2]`), or where it comes from if existing."""
    existing: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    def __str__(self) -> str:
        return f"listener {self.name!r}" + (f" ({self.origin})" if self.origin else "")

    def path(self, key: str) -> str:
        return join_path(self.origin, (key,))


@dataclass(frozen=True)
class AuthObject:
    """What the checks read of a BrokerAuthentication or BrokerAuthorization."""

    kind: Kind
    name: str
    namespace: str
    listener_ref: tuple[str, ...]
    origin: str = ""
    existing: bool = False
    x509: int | None = None
    """Index of the first x509 method in authenticationMethods, if any."""

    def __str__(self) -> str:
        return f"{self.kind} {self.name!r}" + (f" ({self.origin})" if self.origin else "")

    def path(self, *loc: int | str) -> str:
        return join_path(self.origin, loc)


@dataclass
class Links:
    """What the checks found, and which object serves which listener."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    authentication: dict[tuple[str, str], str] = field(default_factory=dict)
    """(namespace, listener) -> name of the BrokerAuthentication that lists it."""
    authorization: dict[tuple[str, str], str] = field(default_factory=dict)


def check(
    listeners: Iterable[LinkedListener],
    authentications: Sequence[AuthObject],
    authorizations: Sequence[AuthObject],
) -> Links:
    """Every check over the given facts; existing listeners first, so a declared listener that
    takes over an existing one's name is the one linked."""
    by_key = {listener.key: listener for listener in listeners}
    links = Links()
    names: dict[str, set[str]] = defaultdict(set)
    for namespace, name in by_key:
        names[namespace].add(name)

    linked: dict[Kind, dict[tuple[str, str], list[tuple[AuthObject, int]]]] = {
        AUTHENTICATION: defaultdict(list),
        AUTHORIZATION: defaultdict(list),
    }
    for objects in (authentications, authorizations):
        links.problems += _names(objects)
        for obj in objects:
            for j, ref in enumerate(obj.listener_ref):
                if (obj.namespace, ref) in by_key:
                    linked[obj.kind][(obj.namespace, ref)].append((obj, j))
                elif not obj.existing:
                    links.problems.append(_unknown_listener(obj, j, names))  # check 3

    for key, listener in by_key.items():
        authn, authz = linked[AUTHENTICATION][key], linked[AUTHORIZATION][key]
        links.problems += _at_most_one(listener, authn) + _at_most_one(listener, authz)  # 1, 2
        if listener.authentication and not authn and not listener.existing:  # check 1
            links.problems.append(
                Problem(
                    listener.path("authenticationEnabled"),
                    f"authentication is enabled, but no BrokerAuthentication lists "
                    f"{listener.name!r}, so the broker has no method to authenticate its "
                    "clients with",
                    f"add {listener.name!r} to the listenerRef of a BrokerAuthentication "
                    f"({_WHERE[AUTHENTICATION]}), or set authenticationEnabled: false",
                )
            )
        links.problems += _x509_without_tls(listener, authn)  # check 4
        links.problems += _authorization_applies(listener, authz)  # check 5
        links.warnings += _without_effect(listener, authn, authz)  # check 6
        if authn:
            links.authentication[key] = authn[0][0].name
        if authz:
            links.authorization[key] = authz[0][0].name
    return links


def _involves_program(listener: LinkedListener, objects: Iterable[AuthObject]) -> bool:
    return not listener.existing or any(not obj.existing for obj in objects)


def _blame(listener: LinkedListener, links: Sequence[tuple[AuthObject, int]], key: str) -> str:
    """Where to report a problem: the last listenerRef entry of the program's objects that
    makes the link, else the listener's own key."""
    for obj, j in reversed(links):
        if not obj.existing:
            return obj.path("listenerRef", j)
    return listener.path(key)


def _names(objects: Sequence[AuthObject]) -> list[Problem]:
    problems = []
    seen: dict[tuple[str, str], AuthObject] = {}
    for obj in objects:
        other = seen.setdefault((obj.namespace, obj.name), obj)
        if other is not obj and not (obj.existing and other.existing):
            problems.append(
                Problem(
                    obj.path("name"),
                    f"{obj} has the same name as {other} in namespace {obj.namespace!r}",
                    "rename one of them (to manage an existing one in this stack instead, "
                    "remove it from the existing ones)",
                )
            )
    return problems


def _unknown_listener(obj: AuthObject, j: int, names: dict[str, set[str]]) -> Problem:
    ref = obj.listener_ref[j]
    here = sorted(names[obj.namespace])
    elsewhere = sorted(ns for ns, listed in names.items() if ref in listed)
    message = f"{ref!r} names no listener in namespace {obj.namespace!r}"
    if elsewhere:
        message += (
            f" (there is one in {', '.join(map(repr, elsewhere))}, but a listenerRef names "
            f"listeners of the {obj.kind}'s own namespace)"
        )
    near = difflib.get_close_matches(ref, here, n=1, cutoff=0.6)
    listing = f"listeners in {obj.namespace!r}: {', '.join(here) or 'none'}"
    if near:
        fix = f"did you mean {near[0]!r}? ({listing})"
    elif elsewhere:
        fix = f"set namespace: {elsewhere[0]} on the {obj.kind}, or name one of the {listing}"
    else:
        fix = f"name a declared or existing listener ({listing})"
    return Problem(obj.path("listenerRef", j), message, fix)


def _at_most_one(
    listener: LinkedListener, links: Sequence[tuple[AuthObject, int]]
) -> list[Problem]:
    if len(links) < 2 or not _involves_program(listener, (obj for obj, _ in links)):
        return []
    kind = links[0][0].kind
    return [
        Problem(
            _blame(listener, links, "name"),
            f"{listener} is listed by {len(links)} {kind}s: "
            + ", ".join(str(obj) for obj, _ in links)
            + f"; a listener uses at most one {kind}",
            f"remove {listener.name!r} from the listenerRef of all but one of them",
        )
    ]


def _x509_without_tls(
    listener: LinkedListener, links: Sequence[tuple[AuthObject, int]]
) -> list[Problem]:
    if listener.tls:
        return []
    return [
        Problem(
            obj.path("authenticationMethods", obj.x509, "x509")
            if not obj.existing
            else listener.path("tls"),
            f"{obj} has an x509 method and lists {listener}, which has no TLS: a client "
            "certificate is presented in the TLS handshake, so the method can never apply",
            f"give {listener.name!r} tls, or remove it from the listenerRef of "
            f"{obj.name!r}, or remove the x509 method",
        )
        for obj, _ in links
        if obj.x509 is not None and _involves_program(listener, [obj])
    ]


def _authorization_applies(
    listener: LinkedListener, links: Sequence[tuple[AuthObject, int]]
) -> list[Problem]:
    if not listener.authorization or not _involves_program(listener, (obj for obj, _ in links)):
        return []
    where = listener.path("authorizationEnabled") if not listener.existing else None
    if not listener.authentication:
        return [
            Problem(
                where or _blame(listener, links, "authorizationEnabled"),
                f"authorizationEnabled is true on {listener.name!r} but authenticationEnabled "
                "is false: authorization only applies to authenticated clients, so it would "
                "never apply and every client could connect and do everything",
                "set authenticationEnabled: true and link a BrokerAuthentication, or set "
                "authorizationEnabled: false",
            )
        ]
    if not links and where is not None:
        return [
            Problem(
                where,
                f"authorizationEnabled is true, but no BrokerAuthorization lists "
                f"{listener.name!r}: with no rule to allow anything, every client would be "
                "refused",
                f"add {listener.name!r} to the listenerRef of a BrokerAuthorization "
                f"({_WHERE[AUTHORIZATION]}), or set authorizationEnabled: false",
            )
        ]
    return []


def _without_effect(
    listener: LinkedListener,
    authn: Sequence[tuple[AuthObject, int]],
    authz: Sequence[tuple[AuthObject, int]],
) -> list[Problem]:
    warnings = []
    for links, enabled, switch, consequence in (
        (authn, listener.authentication, "authenticationEnabled", "any client connects"),
        (authz, listener.authorization, "authorizationEnabled", "every client may do everything"),
    ):
        if enabled:
            continue
        warnings += [
            Problem(
                obj.path("listenerRef", j) if not obj.existing else listener.path(switch),
                f"{obj} lists {listener}, whose {switch} is false: the link has no effect "
                f"and {consequence}",
                f"set {switch}: true on {listener.name!r}, or remove it from the listenerRef",
            )
            for obj, j in links
            if _involves_program(listener, [obj])
        ]
    return warnings
