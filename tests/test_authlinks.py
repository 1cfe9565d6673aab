"""The link checks between listeners and BrokerAuthentications/Authorizations, one by one
(components/v1beta1/authlinks.py), on plain facts."""

from __future__ import annotations

from components.errors import Problem
from components.v1beta1.authlinks import (
    AUTHENTICATION,
    AUTHORIZATION,
    AuthObject,
    LinkedListener,
    Links,
    check,
)

NS = "azure-iot-operations"


def listener(
    name: str,
    *,
    authn: bool = True,
    authz: bool = False,
    tls: bool = True,
    origin: str = "",
    existing: bool = False,
    namespace: str = NS,
) -> LinkedListener:
    return LinkedListener(name, namespace, authn, authz, tls, origin or f"L:{name}", existing)


def authn(
    name: str,
    *refs: str,
    origin: str = "authentications[0]",
    x509: int | None = None,
    existing: bool = False,
    namespace: str = NS,
) -> AuthObject:
    return AuthObject(AUTHENTICATION, name, namespace, refs, origin, existing, x509)


def authz(
    name: str, *refs: str, origin: str = "authorizations[0]", existing: bool = False
) -> AuthObject:
    return AuthObject(AUTHORIZATION, name, NS, refs, origin, existing)


def run(
    listeners: list[LinkedListener],
    authentications: list[AuthObject] | None = None,
    authorizations: list[AuthObject] | None = None,
) -> Links:
    return check(listeners, authentications or [], authorizations or [])


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


# --- a clean setup ---------------------------------------------------------------------------


def test_linked_listeners_pass_and_report_their_objects() -> None:
    links = run(
        [listener("edge", authz=True, origin="listeners[0]"), listener("plain", authn=False)],
        [authn("edge-authn", "edge")],
        [authz("edge-authz", "edge")],
    )
    assert links.problems == [] and links.warnings == []
    assert links.authentication == {(NS, "edge"): "edge-authn"}
    assert links.authorization == {(NS, "edge"): "edge-authz"}


# --- check 1: an authentication-enabled listener is listed by exactly one ------------------


def test_check1_authentication_enabled_without_a_brokerauthentication() -> None:
    problem = only(run([listener("edge", origin="listeners[1]")]).problems)
    assert problem.path == "listeners[1].authenticationEnabled"
    assert problem.message == (
        "authentication is enabled, but no BrokerAuthentication lists 'edge', so the broker "
        "has no method to authenticate its clients with"
    )
    assert problem.fix == (
        "add 'edge' to the listenerRef of a BrokerAuthentication (aio-mq:authentications, or "
        "aio-mq:existingAuthentications for one on the cluster), or set "
        "authenticationEnabled: false"
    )


def test_check1_an_existing_brokerauthentication_counts() -> None:
    links = run(
        [listener("edge")],
        [authn("site", "edge", origin="existingAuthentications[0]", existing=True)],
    )
    assert links.problems == []
    assert links.authentication == {(NS, "edge"): "site"}


def test_check1_two_brokerauthentications_are_both_named() -> None:
    links = run(
        [listener("edge", origin="listeners[0]"), listener("other")],
        [
            authn("a", "edge", origin="authentications[0]"),
            authn("b", "other", "edge", origin="authentications[1]"),
        ],
    )
    problem = only(links.problems)
    assert problem.path == "authentications[1].listenerRef[1]"
    assert problem.message == (
        "listener 'edge' (listeners[0]) is listed by 2 BrokerAuthentications: "
        "BrokerAuthentication 'a' (authentications[0]), BrokerAuthentication 'b' "
        "(authentications[1]); a listener uses at most one BrokerAuthentication"
    )
    assert problem.fix == "remove 'edge' from the listenerRef of all but one of them"


def test_check1_declared_and_default_brokerauthentication_on_a_taken_over_listener() -> None:
    default = authn("authn", "listener", origin="on the cluster by default", existing=True)
    links = run(
        [listener("listener", origin="listeners[0]")],
        [default, authn("mine", "listener", origin="authentications[0]")],
    )
    problem = only(links.problems)
    assert problem.path == "authentications[0].listenerRef[0]"
    assert "BrokerAuthentication 'authn' (on the cluster by default)" in problem.message


def test_check1_problems_among_existing_objects_alone_are_not_reported() -> None:
    existing_listener = listener("listener", origin="the default listener", existing=True)
    assert run([existing_listener]).problems == []
    twice = [
        authn("a", "listener", existing=True, origin="existingAuthentications[0]"),
        authn("b", "listener", existing=True, origin="existingAuthentications[1]"),
    ]
    assert run([existing_listener], twice).problems == []


# --- check 2: at most one BrokerAuthorization ---------------------------------------------


def test_check2_two_brokerauthorizations() -> None:
    links = run(
        [listener("edge", authz=True, origin="listeners[0]")],
        [authn("a", "edge")],
        [
            authz("z1", "edge", origin="authorizations[0]"),
            authz("z2", "edge", origin="authorizations[1]"),
        ],
    )
    problem = only(links.problems)
    assert problem.path == "authorizations[1].listenerRef[0]"
    assert problem.message == (
        "listener 'edge' (listeners[0]) is listed by 2 BrokerAuthorizations: "
        "BrokerAuthorization 'z1' (authorizations[0]), BrokerAuthorization 'z2' "
        "(authorizations[1]); a listener uses at most one BrokerAuthorization"
    )


# --- check 3: listenerRef names a listener of the same namespace ---------------------------


def test_check3_unknown_listener_with_did_you_mean() -> None:
    links = run(
        [listener("telemetry", authn=False), listener("edge", authn=False)],
        [authn("a", "telemetri")],
    )
    problem = only(links.problems)
    assert problem.path == "authentications[0].listenerRef[0]"
    assert problem.message == "'telemetri' names no listener in namespace 'azure-iot-operations'"
    assert problem.fix == (
        "did you mean 'telemetry'? (listeners in 'azure-iot-operations': edge, telemetry)"
    )


def test_check3_listener_of_another_namespace() -> None:
    links = run(
        [listener("edge", namespace="plant", authn=False)],
        [authn("a", "edge")],
    )
    problem = only(links.problems)
    assert problem.message == (
        "'edge' names no listener in namespace 'azure-iot-operations' (there is one in "
        "'plant', but a listenerRef names listeners of the BrokerAuthentication's own "
        "namespace)"
    )
    assert problem.fix == (
        "set namespace: plant on the BrokerAuthentication, or name one of the listeners in "
        "'azure-iot-operations': none"
    )


def test_check3_nothing_close() -> None:
    problem = only(run([listener("edge", authn=False)], [], [authz("z", "zzz")]).problems)
    assert problem.path == "authorizations[0].listenerRef[0]"
    assert problem.fix == (
        "name a declared or existing listener (listeners in 'azure-iot-operations': edge)"
    )


def test_check3_existing_objects_may_list_listeners_we_do_not_know() -> None:
    default = authn("authn", "listener", origin="on the cluster by default", existing=True)
    assert run([listener("edge", authn=False)], [default]).problems == []


# --- check 4: x509 needs TLS ---------------------------------------------------------------


def test_check4_x509_method_on_a_listener_without_tls() -> None:
    links = run(
        [listener("plain", tls=False, origin="listeners[0]"), listener("secure")],
        [authn("certs", "plain", "secure", x509=1)],
    )
    problem = only(links.problems)
    assert problem.path == "authentications[0].authenticationMethods[1].x509"
    assert problem.message == (
        "BrokerAuthentication 'certs' (authentications[0]) has an x509 method and lists "
        "listener 'plain' (listeners[0]), which has no TLS: a client certificate is presented "
        "in the TLS handshake, so the method can never apply"
    )
    assert problem.fix == (
        "give 'plain' tls, or remove it from the listenerRef of 'certs', or remove the x509 method"
    )


def test_check4_existing_x509_object_is_blamed_on_the_declared_listener() -> None:
    links = run(
        [listener("plain", tls=False, origin="listeners[2]")],
        [authn("site", "plain", x509=0, existing=True, origin="existingAuthentications[0]")],
    )
    assert only(links.problems).path == "listeners[2].tls"


def test_check4_without_x509_no_tls_is_fine() -> None:
    assert run([listener("plain", tls=False)], [authn("a", "plain")]).problems == []


# --- check 5: authorization needs authentication and a BrokerAuthorization -----------------


def test_check5_authorization_without_authentication_never_applies() -> None:
    links = run(
        [listener("edge", authn=False, authz=True, origin="listeners[0]")],
        [],
        [authz("z", "edge")],
    )
    problem = only(links.problems)
    assert problem.path == "listeners[0].authorizationEnabled"
    assert problem.message == (
        "authorizationEnabled is true on 'edge' but authenticationEnabled is false: "
        "authorization only applies to authenticated clients, so it would never apply and "
        "every client could connect and do everything"
    )
    assert problem.fix == (
        "set authenticationEnabled: true and link a BrokerAuthentication, or set "
        "authorizationEnabled: false"
    )


def test_check5_authorization_without_a_brokerauthorization_refuses_everyone() -> None:
    links = run([listener("edge", authz=True, origin="listeners[0]")], [authn("a", "edge")])
    problem = only(links.problems)
    assert problem.path == "listeners[0].authorizationEnabled"
    assert problem.message == (
        "authorizationEnabled is true, but no BrokerAuthorization lists 'edge': with no rule "
        "to allow anything, every client would be refused"
    )
    assert problem.fix == (
        "add 'edge' to the listenerRef of a BrokerAuthorization (aio-mq:authorizations, or "
        "aio-mq:existingAuthorizations for one on the cluster), or set "
        "authorizationEnabled: false"
    )


def test_check5_declared_authorization_on_an_existing_listener_without_authentication() -> None:
    existing = listener("old", authn=False, authz=True, existing=True, origin="existing")
    links = run([existing], [], [authz("z", "old", origin="authorizations[3]")])
    assert only(links.problems).path == "authorizations[3].listenerRef[0]"


# --- check 6: links without effect are warnings ---------------------------------------------


def test_check6_link_to_a_listener_with_authentication_off_is_a_warning() -> None:
    links = run([listener("plain", authn=False, origin="listeners[0]")], [authn("a", "plain")])
    assert links.problems == []
    warning = only(links.warnings)
    assert warning.path == "authentications[0].listenerRef[0]"
    assert warning.message == (
        "BrokerAuthentication 'a' (authentications[0]) lists listener 'plain' (listeners[0]), "
        "whose authenticationEnabled is false: the link has no effect and any client connects"
    )
    assert warning.fix == (
        "set authenticationEnabled: true on 'plain', or remove it from the listenerRef"
    )
    assert links.authentication == {(NS, "plain"): "a"}


def test_check6_link_to_a_listener_with_authorization_off_is_a_warning() -> None:
    links = run(
        [listener("edge", origin="listeners[0]")], [authn("a", "edge")], [authz("z", "edge")]
    )
    assert links.problems == []
    warning = only(links.warnings)
    assert warning.message == (
        "BrokerAuthorization 'z' (authorizations[0]) lists listener 'edge' (listeners[0]), "
        "whose authorizationEnabled is false: the link has no effect and every client may do "
        "everything"
    )


def test_check6_existing_inert_links_are_not_ours_to_warn_about() -> None:
    existing = listener("old", authn=False, existing=True, origin="existing")
    site = authn("site", "old", existing=True, origin="existingAuthentications[0]")
    assert run([existing], [site]).warnings == []


# --- names -----------------------------------------------------------------------------------


def test_names_are_unique_per_kind_and_namespace() -> None:
    links = run(
        [listener("edge", authz=True), listener("other", authn=False)],
        [authn("a", "edge", origin="authentications[0]")],
        [
            authz("a", "edge", origin="authorizations[0]"),
            authz("a", "other", origin="authorizations[1]"),
        ],
    )
    problem = next(p for p in links.problems if p.path.endswith(".name"))
    assert problem.path == "authorizations[1].name"
    assert problem.message == (
        "BrokerAuthorization 'a' (authorizations[1]) has the same name as BrokerAuthorization "
        "'a' (authorizations[0]) in namespace 'azure-iot-operations'"
    )


def test_all_problems_come_together() -> None:
    links = run(
        [
            listener("a", origin="listeners[0]"),
            listener("b", tls=False, authz=True, origin="listeners[1]"),
        ],
        [authn("x", "b", "c", x509=0)],
    )
    assert [p.path for p in links.problems] == [
        "authentications[0].listenerRef[1]",
        "listeners[0].authenticationEnabled",
        "authentications[0].authenticationMethods[0].x509",
        "listeners[1].authorizationEnabled",
    ]
