"""`MqListener` (preview API) and `MqListenerV1` (GA API): one BrokerListener custom resource
each, and the TLS Secrets they create if asked to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, Protocol, TypeVar, overload

import pulumi
import pulumi_kubernetes as k8s

from .certs import TlsMaterial, check_tls_material, service_hosts
from .errors import Problem, join_path
from .metadata import object_metadata
from .registry import program_listeners
from .spec import DEFAULT_NAMESPACE
from .v1 import models as v1
from .v1 import sharing as v1_sharing
from .v1beta1.authlinks import LinkedListener
from .v1beta1.models import API_VERSION, DEFAULT_BROKER, MqListenerArgs
from .v1beta1.sharing import Listener

TYPE_TOKEN = "aio:mq:MqListener"
TYPE_TOKEN_V1 = "aio:mq:MqListenerV1"
T = TypeVar("T")


class _Summarized(Protocol):
    summary: pulumi.Output[dict[str, Any]]


class _SummaryField(Generic[T]):
    """An Output of one key of a listener component's `summary`, made on first access and then
    kept: a program with thousands of listeners reads few of them, and each Output costs a task."""

    def __init__(self, key: str, doc: str = "") -> None:
        self.key = key
        self.__doc__ = doc or key

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, listener: None, owner: type) -> _SummaryField[T]: ...
    @overload
    def __get__(self, listener: _Summarized, owner: type) -> pulumi.Output[T]: ...
    def __get__(self, listener: _Summarized | None, owner: type) -> Any:
        if listener is None:
            return self
        output = listener.summary.apply(lambda summary: summary[self.key])
        listener.__dict__[self.name] = output  # a non-data descriptor: the instance's wins next
        return output


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
        parsed = registry.validated(args, MqListenerArgs, origin, resource_name)
        listener = parsed.resolved(DEFAULT_NAMESPACE, DEFAULT_BROKER)
        namespace, broker = str(listener.namespace), str(listener.broker_ref)

        manual = listener.tls.manual if listener.tls else None
        problems = []
        if manual is not None and manual.creates_secret:
            problems = check_tls_material(
                str(manual.certificate),
                manual.revealed_key(),
                service_hosts(listener.service_name, namespace),
                path=join_path(origin, ("tls", "manual")),
            )
        registry.admit(
            Listener(
                name=listener.name,
                namespace=namespace,
                broker=broker,
                port=listener.port,
                service_type=listener.service_type,
                service_name=listener.service_name,
                node_port=listener.node_port,
                origin=origin,
            ),
            problems,
            LinkedListener(
                name=listener.name,
                namespace=namespace,
                authentication=listener.authentication_enabled,
                authorization=listener.authorization_enabled,
                tls=listener.tls is not None,
                origin=origin or f"MqListener({resource_name!r})",
            ),
        )

        opts = opts or pulumi.ResourceOptions()
        caller_depends_on = opts.depends_on
        super().__init__(
            self.type_token,
            resource_name,
            None,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=registry.gate())),
        )

        self.tls_secret: k8s.core.v1.Secret | None = None
        if manual is not None and manual.creates_secret:
            self.tls_secret = _tls_secret(
                f"{resource_name}-tls",
                manual,
                object_metadata(manual.secret_name, manual.secret_namespace or namespace),
                pulumi.ResourceOptions(parent=self, depends_on=caller_depends_on),
            )
        depends_on: Any = [self.tls_secret] if self.tls_secret is not None else caller_depends_on
        if listener.authentication_enabled or listener.authorization_enabled:
            # After the BrokerAuthentication/Authorization that serve it, whenever created.
            depends_on = _after(registry.created_before(namespace, listener.name), depends_on)
        self.broker_listener: k8s.apiextensions.CustomResource = k8s.apiextensions.CustomResource(
            resource_name,
            api_version=API_VERSION,
            kind="BrokerListener",
            metadata=object_metadata(listener.name, namespace),
            spec=listener.spec(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
        )

        tls = listener.tls
        summary: dict[str, Any] = {
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
        key = (namespace, listener.name)

        def linked(_: str) -> dict[str, Any]:
            links = registry.links()
            return {
                **summary,
                "authentication": links.authentication.get(key),
                "authorization": links.authorization.get(key),
            }

        # Resolves once the CR is registered, so whoever consumes it is ordered after the CR
        # (and the links are known: the gate opened).
        self.summary: pulumi.Output[dict[str, Any]] = self.broker_listener.urn.apply(linked)
        """name, namespace, port, serviceName, serviceType, host, tlsMode, tlsIssuer,
        tlsSecretName, authentication and authorization (the names of the linked
        BrokerAuthentication/Authorization, or None) as one map (what the stack exports per
        listener)."""
        # Completion only: the summary is exported by the stack and readable here; sending it
        # again per component cost ~7% of a 100-listener preview (docs/benchmarks.md).
        self.register_outputs({})

    listener_name = _SummaryField[str]("name", "metadata.name of the BrokerListener.")
    namespace = _SummaryField[str]("namespace")
    port = _SummaryField[int]("port")
    service_name = _SummaryField[str]("serviceName")
    service_type = _SummaryField[str]("serviceType")
    host = _SummaryField[str]("host", "In-cluster DNS name of the listener's Service.")
    tls_mode = _SummaryField[str]("tlsMode", "none, automatic, manual or keyVault.")
    tls_issuer = _SummaryField[str | None]("tlsIssuer", "cert-manager issuer (automatic TLS).")
    tls_secret_name = _SummaryField[str | None]("tlsSecretName", "TLS Secret (manual TLS).")
    authentication = _SummaryField[str | None]("authentication", "Linked BrokerAuthentication.")
    authorization = _SummaryField[str | None]("authorization", "Linked BrokerAuthorization.")


def _after(
    first: pulumi.Output[list[pulumi.Resource]], depends_on: Any
) -> pulumi.Output[list[pulumi.Resource]]:
    """`depends_on` (a resource, a list of them, or None) and the resources of `first`."""
    given = depends_on if isinstance(depends_on, list | tuple) else [depends_on]
    return pulumi.Output.all(first, *[d for d in given if d is not None]).apply(
        lambda found: [
            resource for item in found for resource in (item if isinstance(item, list) else [item])
        ]
    )


def _tls_secret(
    resource_name: str,
    material: TlsMaterial,
    metadata: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.Secret:
    """The kubernetes.io/tls Secret of manual TLS, its key a Pulumi secret."""
    return k8s.core.v1.Secret(
        resource_name,
        metadata=metadata,
        type="kubernetes.io/tls",
        string_data={
            "tls.crt": str(material.certificate),
            "tls.key": pulumi.Output.secret(material.revealed_key()),
        },
        opts=opts,
    )


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
    """

    def __init__(
        self,
        resource_name: str,
        args: v1.MqListenerV1Args | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
        *,
        origin: str = "",
    ) -> None:
        """`origin` is the key path of the args in error messages (e.g. `listeners[2]`)."""
        registry = program_listeners()
        parsed = registry.validated(args, v1.MqListenerV1Args, origin, resource_name)
        listener = parsed.resolved(DEFAULT_NAMESPACE, v1.DEFAULT_BROKER)
        namespace, broker = str(listener.namespace), str(listener.broker_ref)
        secrets, problems = _secret_material(listener, namespace, origin)
        registry.admit(
            v1_sharing.Listener.of(listener, namespace, broker, origin),
            problems,
            api_version=v1.API_VERSION,
        )

        opts = opts or pulumi.ResourceOptions()
        caller_depends_on = opts.depends_on
        super().__init__(
            TYPE_TOKEN_V1,
            resource_name,
            None,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=registry.gate())),
        )
        for warning in v1_sharing.default_listener_warnings(listener, origin or resource_name):
            pulumi.log.warn(warning, resource=self)

        self.tls_secrets: list[k8s.core.v1.Secret] = [
            _tls_secret(
                f"{resource_name}-tls-{secret_ref}",
                material,
                object_metadata(secret_ref, namespace),
                pulumi.ResourceOptions(parent=self, depends_on=caller_depends_on),
            )
            for secret_ref, material in secrets.items()
        ]
        depends_on: Any = self.tls_secrets or caller_depends_on
        self.broker_listener: k8s.apiextensions.CustomResource = k8s.apiextensions.CustomResource(
            resource_name,
            api_version=v1.API_VERSION,
            kind="BrokerListener",
            metadata=object_metadata(listener.name, namespace),
            spec=listener.spec(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
        )

        summary: dict[str, Any] = {
            "name": listener.name,
            "namespace": namespace,
            "serviceName": listener.service,
            "serviceType": listener.service_type,
            "host": f"{listener.service}.{namespace}.svc.cluster.local",
            "ports": [
                {
                    "port": port.port,
                    "nodePort": port.node_port,
                    "protocol": port.protocol,
                    "tlsMode": port.tls_mode,
                    "authentication": port.authentication_ref,
                    "authorization": port.authorization_ref,
                }
                for port in listener.ports
            ],
        }
        self.summary: pulumi.Output[dict[str, Any]] = self.broker_listener.urn.apply(
            lambda _: summary
        )
        """name, namespace, serviceName, serviceType, host, and per port: port, nodePort,
        protocol, tlsMode (None, Automatic or Manual), authentication and authorization (the
        referenced objects' names, or None). What the stack exports per GA listener."""
        self.register_outputs({})

    listener_name = _SummaryField[str]("name", "metadata.name of the BrokerListener.")
    namespace = _SummaryField[str]("namespace")
    service_name = _SummaryField[str]("serviceName")
    service_type = _SummaryField[str]("serviceType")
    host = _SummaryField[str]("host", "In-cluster DNS name of the listener's Service.")
    ports = _SummaryField[list[dict[str, Any]]]("ports", "Per port: see `summary`.")


def _secret_material(
    listener: v1.MqListenerV1Args, namespace: str, origin: str
) -> tuple[dict[str, v1.ManualTls], list[Problem]]:
    """The Secrets to create from the ports' manual TLS material, by name, and the problems
    with that material. A Secret is created once: its material is given on one port."""
    secrets: dict[str, v1.ManualTls] = {}
    given_at: dict[str, str] = {}
    problems: list[Problem] = []
    for i, port in enumerate(listener.ports):
        manual = port.tls.manual if port.tls else None
        if manual is None or not manual.creates_secret:
            continue
        path = join_path(origin, ("ports", i, "tls", "manual"))
        if manual.secret_ref in secrets:
            problems.append(
                Problem(
                    path,
                    f"the certificate and key of Secret {manual.secret_ref!r} are given twice "
                    f"(also {given_at[manual.secret_ref]})",
                    "give them on one port; other ports name the Secret with secretRef alone",
                )
            )
            continue
        secrets[manual.secret_ref] = manual
        given_at[manual.secret_ref] = path
        problems += check_tls_material(
            str(manual.certificate),
            manual.revealed_key(),
            service_hosts(listener.service, namespace),
            path=path,
        )
    return secrets, problems
