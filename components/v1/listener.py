"""`MqListenerV1`: one GA BrokerListener custom resource (mqttbroker.iotoperations.azure.com/v1),
and the TLS Secrets its ports create if asked to."""

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
from . import models as v1
from . import sharing as v1_sharing
from .objects import BrokerObject, Wait, with_wait
from .registry import GA_RULES

SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait"
TYPE_TOKEN = "aio:mq:MqListenerV1"


class MqListenerV1(pulumi.ComponentResource):
    """A GA BrokerListener (mqttbroker.iotoperations.azure.com/v1): one Service with `ports`,
    checked against every other GA listener of the program.

    `args` is an `MqListenerV1Args` or a mapping with the keys of a GA `aio-mq:listeners` item.
    Without `namespace` or `brokerRef`, `azure-iot-operations` and `default` apply.

    Checked before anything is registered, like `MqListener`: the args, the certificate and key
    given for a port's manual TLS, and the GA rules against the program's other GA listeners
    and the existing ones (`declare_existing_listeners_v1`; by default the `default` listener
    Azure IoT Operations installs). Any problem raises a `ConfigError`, and then no listener of
    the program is registered. A program that manages `default` with other settings on port
    18883 than Azure IoT Operations installs gets a warning.

    References to BrokerAuthentications/Authorizations are checked by the stack program, which
    knows them; a program composing this component checks its own.

    With `wait`, `up` stays on the BrokerListener until the broker has answered (its
    `status.provisioningStatus`, the `status` output of `broker_listener`); see
    components/v1/wait.py. Without it, `up` ends once the API server stored it.
    """

    # A subclass registers under its own token: the package's component is `aio-mq:index:…`.
    type_token = TYPE_TOKEN

    def __init__(
        self,
        resource_name: str,
        args: v1.MqListenerV1Args | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
        *,
        origin: str = "",
        wait: Wait | None = None,
    ) -> None:
        """`origin` is the key path of the args in error messages (e.g. `listeners[2]`)."""
        registry = program_listeners()
        parsed = registry.validated(args, v1.MqListenerV1Args, origin, resource_name)
        listener = parsed.resolved(DEFAULT_NAMESPACE, v1.DEFAULT_BROKER)
        if not registry.checked(resource_name, parsed):  # the stack program checks up front
            facts, problems = check_listener(listener, origin)
            registry.admit(
                resource_name,
                facts,
                problems,
                rules=GA_RULES,
                kind=type(self).__name__,
            )

        opts = opts or pulumi.ResourceOptions()
        caller_depends_on = opts.depends_on
        super().__init__(
            self.type_token,
            resource_name,
            None,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=registry.gate())),
        )
        registered = register_listener(
            resource_name,
            listener,
            pulumi.ResourceOptions(parent=self),
            depends_on=caller_depends_on,
            origin=origin,
            wait=wait,
            on_cluster=registry.on_cluster,
        )
        self.tls_secrets: list[k8s.core.v1.Secret] = registered.tls_secrets
        self.broker_listener: BrokerObject = registered.broker_listener
        self.mark: k8s.apiextensions.CustomResourcePatch | None = registered.mark
        self._summary: dict[str, Any] = listener.summary()
        self.register_outputs({})

    @functools.cached_property
    def summary(self) -> pulumi.Output[dict[str, Any]]:
        """name, namespace, serviceName, serviceType, host, and per port: port, nodePort,
        protocol, tlsMode (None, Automatic or Manual), authentication and authorization (the
        referenced objects' names, or None). Resolves once the CR is registered."""
        return self.broker_listener.urn.apply(lambda _: self.summary_values())

    def summary_values(self) -> dict[str, Any]:
        """The values of `summary`: what the stack exports per GA listener."""
        return self._summary

    listener_name = SummaryField[str]("name", "metadata.name of the BrokerListener.")
    namespace = SummaryField[str]("namespace")
    service_name = SummaryField[str]("serviceName")
    service_type = SummaryField[str]("serviceType")
    host = SummaryField[str]("host", "In-cluster DNS name of the listener's Service.")
    ports = SummaryField[list[dict[str, Any]]]("ports", "Per port: see `summary`.")


@dataclass(frozen=True)
class RegisteredListener:
    """What one GA listener registers on the Kubernetes target."""

    broker_listener: BrokerObject
    tls_secrets: list[k8s.core.v1.Secret]
    mark: k8s.apiextensions.CustomResourcePatch | None
    """The `default` listener's stack mark, applied apart (below)."""


def register_listener(
    resource_name: str,
    listener: v1.MqListenerV1Args,
    opts: pulumi.ResourceOptions,
    *,
    depends_on: Any = None,
    origin: str = "",
    wait: Wait | None = None,
    on_cluster: bool = False,
    formerly: Callable[[str, str], list[pulumi.Input[str]]] | None = None,
) -> RegisteredListener:
    """The BrokerListener of `listener` (namespace and brokerRef resolved, checked already) and
    the TLS Secrets its ports' manual TLS creates, with `opts` (parent, provider, aliases): the
    Secrets after `depends_on`, the listener after them (or `depends_on`). With `wait`, `up`
    stays on the listener until the broker has answered. `formerly`: the aliases of each
    resource, by its Pulumi name."""

    def options(name: str, type_: str, **given: Any) -> pulumi.ResourceOptions:
        aliases = formerly(name, type_) if formerly else None
        return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=aliases, **given))

    namespace = str(listener.namespace)
    secrets = [
        tls_secret(
            f"{resource_name}-tls-{manual.secret_ref}",
            manual,
            path,
            object_metadata(manual.secret_ref, namespace),
            options(f"{resource_name}-tls-{manual.secret_ref}", SECRET_TYPE, depends_on=depends_on),
        )
        for path, manual in _secret_material(listener, origin)
    ]
    # Azure IoT Operations' own components connect to `default`: a stack that manages it
    # (to add ClusterIp ports) leaves it on the cluster when it stops managing it.
    retained = v1_sharing.is_installed_default(listener)
    # On a cluster its mark goes on through a server-side apply Patch, whose field manager
    # owns only the mark: deleting the Patch (destroy, or `default` leaving the stack)
    # gives the mark up, while the listener stays as last applied. Left marked, it would
    # keep every other stack from managing it (components/v1/sharing.py).
    mark_apart = retained and on_cluster
    broker_listener = BrokerObject(
        resource_name,
        api_version=v1.API_VERSION,
        kind="BrokerListener",
        metadata=with_wait(object_metadata(listener.name, namespace, marked=not mark_apart), wait),
        spec=listener.spec(),
        opts=options(
            resource_name,
            f"kubernetes:{v1.API_VERSION}:BrokerListener",
            depends_on=secrets or depends_on,
            retain_on_delete=retained or None,
        ),
    )
    for warning in v1_sharing.default_listener_warnings(listener, origin or resource_name):
        pulumi.log.warn(warning, resource=broker_listener)
    mark = None
    if mark_apart:
        metadata = object_metadata(listener.name, namespace)
        # The Patch claims the mark and waits for nothing: the listener waits for the broker.
        # Left to await, the provider reads the listener's waitFor annotation off the live
        # object and may keep, as the Patch's state, a copy from its watch cache older than
        # the Patch, without the mark: the next preview would then propose adding it again.
        metadata["annotations"][SKIP_AWAIT_ANNOTATION] = "true"
        mark = k8s.apiextensions.CustomResourcePatch(
            f"{resource_name}-mark",
            api_version=v1.API_VERSION,
            kind="BrokerListener",
            metadata=metadata,
            opts=options(
                f"{resource_name}-mark",
                f"kubernetes:{v1.API_VERSION}:BrokerListenerPatch",
                depends_on=[broker_listener],
            ),
        )
    return RegisteredListener(broker_listener, secrets, mark)


def check_listener(
    listener: v1.MqListenerV1Args, origin: str = ""
) -> tuple[v1_sharing.Listener, list[Problem]]:
    """The facts the GA rules compare for `listener` (namespace and brokerRef resolved), and the
    problems of the certificates and keys its ports give for manual TLS."""
    namespace = str(listener.namespace)
    problems: list[Problem] = []
    given_at: dict[str, str] = {}
    for i, port in enumerate(listener.ports):
        manual = port.tls.manual if port.tls else None
        if manual is None or not manual.creates_secret:
            continue
        path = join_path(origin, ("ports", i, "tls", "manual"))
        if manual.secret_ref in given_at:
            problems.append(
                Problem(
                    path,
                    f"the certificate and key of Secret {manual.secret_ref!r} are given twice "
                    f"(also {given_at[manual.secret_ref]})",
                    "give them on one port; other ports name the Secret with secretRef alone",
                )
            )
            continue
        given_at[manual.secret_ref] = path
        certificate, key, found = tls_material(manual, path)
        problems += found or check_tls_material(
            certificate, key, service_hosts(listener.service, namespace), path=path
        )
    facts = v1_sharing.Listener.of(listener, namespace, str(listener.broker_ref), origin)
    return facts, problems


def _secret_material(listener: v1.MqListenerV1Args, origin: str) -> list[tuple[str, v1.ManualTls]]:
    """The ports' manual TLS that creates a Secret, once per Secret, with its key path."""
    found: dict[str, tuple[str, v1.ManualTls]] = {}
    for i, port in enumerate(listener.ports):
        manual = port.tls.manual if port.tls else None
        if manual is not None and manual.creates_secret:
            path = join_path(origin, ("ports", i, "tls", "manual"))
            found.setdefault(manual.secret_ref, (path, manual))
    return list(found.values())
