"""`MqListener` (preview API) and `MqListenerV1` (GA API): one BrokerListener custom resource
each, and the TLS Secrets they create if asked to."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Generic, Protocol, TypeVar, overload

import pulumi
import pulumi_kubernetes as k8s

from .certs import TlsMaterial, check_tls_material, service_hosts
from .errors import Problem, join_path
from .metadata import object_metadata
from .project_files import read_project_file
from .registry import program_listeners
from .spec import DEFAULT_NAMESPACE
from .v1 import models as v1
from .v1 import sharing as v1_sharing
from .v1.wait import BrokerObject, Wait, with_wait
from .v1beta1.authlinks import LinkedListener
from .v1beta1.models import API_VERSION, DEFAULT_BROKER, MqListenerArgs
from .v1beta1.sharing import Listener

TYPE_TOKEN = "aio:mq:MqListener"
TYPE_TOKEN_V1 = "aio:mq:MqListenerV1"
T = TypeVar("T")


class _Summarized(Protocol):
    @property
    def summary(self) -> pulumi.Output[dict[str, Any]]: ...


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
        namespace = str(listener.namespace)
        manual = listener.tls.manual if listener.tls else None

        opts = opts or pulumi.ResourceOptions()
        caller_depends_on = opts.depends_on
        if not registry.checked(resource_name, parsed):  # the stack program checks up front
            facts, problems = check_listener(listener, origin)
            registry.admit(
                resource_name, facts, problems, link_facts(listener, resource_name, origin)
            )
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
                join_path(origin, ("tls", "manual")),
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
        self._summary: dict[str, Any] = {
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
        self._registry = registry
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
        links = self._registry.links()
        key = (self._summary["namespace"], self._summary["name"])
        return {
            **self._summary,
            "authentication": links.authentication.get(key),
            "authorization": links.authorization.get(key),
        }

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


def tls_material(manual: TlsMaterial, path: str) -> tuple[str, str, list[Problem]]:
    """The certificate chain and the key of `manual` (at key path `path`), given inline or read
    from their files."""
    certificate, key = manual.certificate or "", manual.revealed_key()
    problems: list[Problem] = []
    if manual.certificate_file is not None:
        certificate, problems = read_project_file(
            manual.certificate_file, join_path(path, ("certificateFile",))
        )
    if manual.private_key_file is not None:
        key, key_problems = read_project_file(
            manual.private_key_file, join_path(path, ("privateKeyFile",)), secret=True
        )
        problems += key_problems
    return certificate, key, problems


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


def _tls_secret(
    resource_name: str,
    material: TlsMaterial,
    path: str,
    metadata: dict[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.Secret:
    """The kubernetes.io/tls Secret of manual TLS, its key a Pulumi secret (checked already)."""
    certificate, private_key, _ = tls_material(material, path)
    return k8s.core.v1.Secret(
        resource_name,
        metadata=metadata,
        type="kubernetes.io/tls",
        string_data={"tls.crt": certificate, "tls.key": pulumi.Output.secret(private_key)},
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

    With `wait`, `up` stays on the BrokerListener until the broker has answered (its
    `status.provisioningStatus`, the `status` output of `broker_listener`); see
    components/v1/wait.py. Without it, `up` ends once the API server stored it.
    """

    # A subclass registers under its own token: the package's component is `aio-mq:index:…`.
    type_token = TYPE_TOKEN_V1

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
        namespace = str(listener.namespace)
        if not registry.checked(resource_name, parsed):  # the stack program checks up front
            facts, problems = check_listener_v1(listener, origin)
            registry.admit(
                resource_name,
                facts,
                problems,
                api_version=v1.API_VERSION,
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
        for warning in v1_sharing.default_listener_warnings(listener, origin or resource_name):
            pulumi.log.warn(warning, resource=self)

        self.tls_secrets: list[k8s.core.v1.Secret] = [
            _tls_secret(
                f"{resource_name}-tls-{manual.secret_ref}",
                manual,
                path,
                object_metadata(manual.secret_ref, namespace),
                pulumi.ResourceOptions(parent=self, depends_on=caller_depends_on),
            )
            for path, manual in _secret_material(listener, origin)
        ]
        depends_on: Any = self.tls_secrets or caller_depends_on
        # Azure IoT Operations' own components connect to `default`: a stack that manages it
        # (to add ClusterIp ports) leaves it on the cluster when it stops managing it.
        retained = v1_sharing.is_installed_default(listener)
        # On a cluster its mark goes on through a server-side apply Patch, whose field manager
        # owns only the mark: deleting the Patch (destroy, or `default` leaving the stack)
        # gives the mark up, while the listener stays as last applied. Left marked, it would
        # keep every other stack from managing it (components/v1/sharing.py).
        mark_apart = retained and registry.on_cluster
        self.broker_listener: BrokerObject = BrokerObject(
            resource_name,
            api_version=v1.API_VERSION,
            kind="BrokerListener",
            metadata=with_wait(
                object_metadata(listener.name, namespace, marked=not mark_apart), wait
            ),
            spec=listener.spec(),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=depends_on, retain_on_delete=retained or None
            ),
        )
        self.mark: k8s.apiextensions.CustomResourcePatch | None = None
        if mark_apart:
            self.mark = k8s.apiextensions.CustomResourcePatch(
                f"{resource_name}-mark",
                api_version=v1.API_VERSION,
                kind="BrokerListener",
                metadata=object_metadata(listener.name, namespace),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.broker_listener]),
            )
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

    listener_name = _SummaryField[str]("name", "metadata.name of the BrokerListener.")
    namespace = _SummaryField[str]("namespace")
    service_name = _SummaryField[str]("serviceName")
    service_type = _SummaryField[str]("serviceType")
    host = _SummaryField[str]("host", "In-cluster DNS name of the listener's Service.")
    ports = _SummaryField[list[dict[str, Any]]]("ports", "Per port: see `summary`.")


def check_listener_v1(
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
