"""`MqListener`: one preview-API BrokerListener custom resource (mq.iotoperations.azure.com/
v1beta1), and the TLS Secret it creates if asked to."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..certs import check_tls_material, service_hosts, tls_material
from ..errors import Problem, join_path
from ..kubernetes.listener import SECRET_TYPE, SummaryField, tls_secret
from ..metadata import object_metadata
from ..registry import program_listeners
from ..spec import DEFAULT_NAMESPACE
from .authlinks import LinkedListener
from .models import API_VERSION, DEFAULT_BROKER, MqListenerArgs
from .registry import PREVIEW_RULES, AuthLinks, auth_links
from .sharing import Listener

TYPE_TOKEN = "aio:mq:MqListener"


class MqListener(pulumi.ComponentResource):
    """An Azure IoT MQ BrokerListener, checked against every other listener of the program.

    `args` is an `MqListenerArgs` or a mapping with the same keys as an item of the stack's
    `aio-mq:listeners` (camelCase as in the CR; snake_case accepted). Without `namespace` or
    `brokerRef` in the args, `azure-iot-operations` and `broker` apply.

    Before anything is registered the args are validated, a certificate and key given for
    manual TLS are checked, and the listener is checked against the listeners created earlier
    in this program and the existing ones (`declare_existing_listeners`; by default the
    listener every deployment has). Any problem raises a `ConfigError`, and then no listener
    of the program is registered. Once the program's top-level code has run, the listener is
    also checked with the `MqAuthentication`/`MqAuthorization` objects that list it (by
    default the deployment's BrokerAuthentication `authn` exists), and created after them.

    Dependencies given in `opts.depends_on` (for example the cert-manager Issuer the listener
    uses) are passed on to the BrokerListener, so it is created after them.
    """

    # A subclass registers under its own token: the package's component is `aio-mq:index:…`.
    type_token = TYPE_TOKEN

    def __init__(
        self,
        resource_name: str,
        args: MqListenerArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
        *,
        origin: str = "",
    ) -> None:
        """`origin` is the key path of the args in error messages (e.g. `listeners[2]`)."""
        registry = program_listeners()
        links = auth_links(registry)
        parsed = registry.validated(args, MqListenerArgs, origin, resource_name)
        listener = parsed.resolved(DEFAULT_NAMESPACE, DEFAULT_BROKER)
        opts = opts or pulumi.ResourceOptions()
        caller_depends_on = opts.depends_on
        if not registry.checked(resource_name, parsed):  # the stack program checks up front
            facts, problems = check_listener(listener, origin)
            registry.admit(
                resource_name,
                facts,
                problems,
                link_facts(listener, resource_name, origin),
                rules=PREVIEW_RULES,
            )
        super().__init__(
            self.type_token,
            resource_name,
            None,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=registry.gate())),
        )

        registered = register_listener(
            resource_name,
            listener,
            links,
            pulumi.ResourceOptions(parent=self),
            depends_on=caller_depends_on,
            origin=origin,
        )
        self.tls_secret: k8s.core.v1.Secret | None = registered.tls_secret
        self.broker_listener: k8s.apiextensions.CustomResource = registered.broker_listener
        self._summary = registered.summary
        self._links = links
        # Completion only: the summary is exported by the stack and readable here; sending it
        # again per component cost ~7% of a 100-listener preview (docs/benchmarks.md).
        self.register_outputs({})

    @functools.cached_property
    def summary(self) -> pulumi.Output[dict[str, Any]]:
        """name, namespace, port, serviceName, serviceType, host, tlsMode, tlsIssuer,
        tlsSecretName, authentication and authorization (the names of the linked
        BrokerAuthentication/Authorization, or None) as one map. Resolves once the CR is
        registered (and the links are known), so whoever consumes it is ordered after the CR.
        Made on first access: each Output is a task the SDK waits on."""
        return self.broker_listener.urn.apply(lambda _: self.summary_values())

    def summary_values(self) -> dict[str, Any]:
        """The values of `summary`, once the program's links are known (in the stack program:
        at once; in a composition: after its top-level code ran). What the stack exports."""
        return linked_summary(self._summary, self._links)

    listener_name = SummaryField[str]("name", "metadata.name of the BrokerListener.")
    namespace = SummaryField[str]("namespace")
    port = SummaryField[int]("port")
    service_name = SummaryField[str]("serviceName")
    service_type = SummaryField[str]("serviceType")
    host = SummaryField[str]("host", "In-cluster DNS name of the listener's Service.")
    tls_mode = SummaryField[str]("tlsMode", "none, automatic, manual or keyVault.")
    tls_issuer = SummaryField[str | None]("tlsIssuer", "cert-manager issuer (automatic TLS).")
    tls_secret_name = SummaryField[str | None]("tlsSecretName", "TLS Secret (manual TLS).")
    authentication = SummaryField[str | None]("authentication", "Linked BrokerAuthentication.")
    authorization = SummaryField[str | None]("authorization", "Linked BrokerAuthorization.")


@dataclass(frozen=True)
class RegisteredListener:
    """What one preview-API listener registers, and what the stack exports for it."""

    broker_listener: k8s.apiextensions.CustomResource
    tls_secret: k8s.core.v1.Secret | None
    summary: dict[str, Any]
    """The exported summary but its links (`linked_summary`)."""


def register_listener(
    resource_name: str,
    listener: MqListenerArgs,
    links: AuthLinks,
    opts: pulumi.ResourceOptions,
    *,
    depends_on: Any = None,
    origin: str = "",
    formerly: Callable[[str, str], list[pulumi.Input[str]]] | None = None,
) -> RegisteredListener:
    """The BrokerListener of `listener` (namespace and brokerRef resolved, checked already) and
    the TLS Secret its manual TLS creates, with `opts` (parent, provider, aliases): the Secret
    after `depends_on`, the listener after the Secret (or `depends_on`) and after the
    BrokerAuthentication/Authorization that serve it, whenever those are created. `formerly`:
    the aliases of each resource, by its Pulumi name."""

    def options(name: str, type_: str, after: Any) -> pulumi.ResourceOptions:
        aliases = formerly(name, type_) if formerly else None
        return pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(depends_on=after, aliases=aliases)
        )

    namespace = str(listener.namespace)
    manual = listener.tls.manual if listener.tls else None
    secret = None
    if manual is not None and manual.creates_secret:
        secret = tls_secret(
            f"{resource_name}-tls",
            manual,
            join_path(origin, ("tls", "manual")),
            object_metadata(manual.secret_name, manual.secret_namespace or namespace),
            options(f"{resource_name}-tls", SECRET_TYPE, depends_on),
        )
    after: Any = [secret] if secret is not None else depends_on
    if listener.authentication_enabled or listener.authorization_enabled:
        after = _after(links.created_before(namespace, listener.name), after)
    broker_listener = k8s.apiextensions.CustomResource(
        resource_name,
        api_version=API_VERSION,
        kind="BrokerListener",
        metadata=object_metadata(listener.name, namespace),
        spec=listener.spec(),
        opts=options(resource_name, f"kubernetes:{API_VERSION}:BrokerListener", after),
    )
    tls = listener.tls
    summary = {
        "name": listener.name,
        "namespace": namespace,
        "port": listener.port,
        "serviceName": listener.service_name,
        "serviceType": listener.service_type,
        "host": f"{listener.service_name}.{namespace}.svc.cluster.local",
        "tlsMode": listener.tls_mode,
        "tlsIssuer": tls.automatic.issuer_ref.name if tls and tls.automatic else None,
        "tlsSecretName": tls.manual.secret_name if tls and tls.manual else None,
    }
    return RegisteredListener(broker_listener, secret, summary)


def linked_summary(summary: dict[str, Any], links: AuthLinks) -> dict[str, Any]:
    """A listener's `summary` with the BrokerAuthentication/Authorization linked to it, once
    the program's links are known."""
    found = links.links()
    key = (summary["namespace"], summary["name"])
    return {
        **summary,
        "authentication": found.authentication.get(key),
        "authorization": found.authorization.get(key),
    }


def check_listener(listener: MqListenerArgs, origin: str = "") -> tuple[Listener, list[Problem]]:
    """The facts the sharing rules compare for `listener` (namespace and brokerRef resolved),
    and the problems of the certificate and key it gives for manual TLS."""
    namespace, broker = str(listener.namespace), str(listener.broker_ref)
    manual = listener.tls.manual if listener.tls else None
    problems: list[Problem] = []
    if manual is not None and manual.creates_secret:
        path = join_path(origin, ("tls", "manual"))
        certificate, key, problems = tls_material(manual, path)
        if not problems:
            problems = check_tls_material(
                certificate,
                key,
                service_hosts(listener.service_name, namespace),
                path=path,
            )
    facts = Listener(
        name=listener.name,
        namespace=namespace,
        broker=broker,
        port=listener.port,
        service_type=listener.service_type,
        service_name=listener.service_name,
        node_port=listener.node_port,
        origin=origin,
    )
    return facts, problems


def link_facts(listener: MqListenerArgs, resource_name: str, origin: str = "") -> LinkedListener:
    """What the authentication/authorization link checks look at (namespace resolved)."""
    return LinkedListener(
        name=listener.name,
        namespace=str(listener.namespace),
        authentication=listener.authentication_enabled,
        authorization=listener.authorization_enabled,
        tls=listener.tls is not None,
        origin=origin or f"MqListener({resource_name!r})",
    )


def _after(first: pulumi.Input[list[pulumi.Resource]], depends_on: Any) -> Any:
    """`depends_on` (a resource, a list of them, or None) and the resources of `first`."""
    given = depends_on if isinstance(depends_on, list | tuple) else [depends_on]
    given = [d for d in given if d is not None]
    if isinstance(first, list):  # known already: the stack program created them first
        return [*first, *given]
    return pulumi.Output.all(first, *given).apply(
        lambda found: [
            resource for item in found for resource in (item if isinstance(item, list) else [item])
        ]
    )
