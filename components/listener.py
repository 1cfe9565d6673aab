"""`MqListener`: one BrokerListener custom resource, and the TLS Secret it creates if asked to."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import ValidationError

from .certs import check_tls_material, service_hosts
from .errors import ConfigError, join_path, problems_from_validation
from .models import API_VERSION, DEFAULT_BROKER, DEFAULT_NAMESPACE, ManualTls, MqListenerArgs
from .registry import program_listeners
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
    of the program is registered.

    Dependencies given in `opts.depends_on` (for example the cert-manager Issuer the listener
    uses) are passed on to the BrokerListener, so it is created after them.
    """

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
        try:
            parsed = (
                args if isinstance(args, MqListenerArgs) else MqListenerArgs.model_validate(args)
            )
        except ValidationError as exc:
            registry.refuse(
                ConfigError(
                    problems_from_validation(exc, MqListenerArgs, origin),
                    f"{origin or 'MqListener'} {resource_name!r}",
                )
            )
        listener = parsed.resolved(DEFAULT_NAMESPACE, DEFAULT_BROKER)
        namespace, broker = str(listener.namespace), str(listener.broker_ref)

        manual = listener.tls.manual if listener.tls else None
        problems = []
        if manual is not None and manual.creates_secret:
            problems = check_tls_material(
                str(manual.certificate),
                _reveal(manual),
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
        )

        opts = opts or pulumi.ResourceOptions()
        caller_depends_on = opts.depends_on
        super().__init__(
            TYPE_TOKEN,
            resource_name,
            None,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=registry.gate())),
        )

        self.tls_secret: k8s.core.v1.Secret | None = None
        if manual is not None and manual.creates_secret:
            self.tls_secret = k8s.core.v1.Secret(
                f"{resource_name}-tls",
                metadata={
                    "name": manual.secret_name,
                    "namespace": manual.secret_namespace or namespace,
                },
                type="kubernetes.io/tls",
                string_data={
                    "tls.crt": str(manual.certificate),
                    "tls.key": pulumi.Output.secret(_reveal(manual)),
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=caller_depends_on),
            )
        depends_on: Any = [self.tls_secret] if self.tls_secret is not None else caller_depends_on
        self.broker_listener: k8s.apiextensions.CustomResource = k8s.apiextensions.CustomResource(
            resource_name,
            api_version=API_VERSION,
            kind="BrokerListener",
            metadata={"name": listener.name, "namespace": namespace},
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
        # Resolves once the CR is registered, so whoever consumes it is ordered after the CR.
        self.summary: pulumi.Output[dict[str, Any]] = self.broker_listener.urn.apply(
            lambda _: summary
        )
        """name, namespace, port, serviceName, serviceType, host, tlsMode, tlsIssuer and
        tlsSecretName as one map (what the stack exports per listener)."""
        # Completion only: the summary is exported by the stack and readable here; sending it
        # again per component cost ~7% of a 100-listener preview (docs/benchmarks.md).
        self.register_outputs({})

    # One Output per field only when asked for: a program with thousands of listeners reads
    # few of them, and each Output costs a task.
    def _field(self, key: str) -> pulumi.Output[Any]:
        return self.summary.apply(lambda summary: summary[key])

    @cached_property
    def listener_name(self) -> pulumi.Output[str]:
        """metadata.name of the BrokerListener."""
        return self._field("name")

    @cached_property
    def namespace(self) -> pulumi.Output[str]:
        return self._field("namespace")

    @cached_property
    def port(self) -> pulumi.Output[int]:
        return self._field("port")

    @cached_property
    def service_name(self) -> pulumi.Output[str]:
        return self._field("serviceName")

    @cached_property
    def service_type(self) -> pulumi.Output[str]:
        return self._field("serviceType")

    @cached_property
    def host(self) -> pulumi.Output[str]:
        """In-cluster DNS name of the listener's Service."""
        return self._field("host")

    @cached_property
    def tls_mode(self) -> pulumi.Output[str]:
        """none, automatic, manual or keyVault."""
        return self._field("tlsMode")

    @cached_property
    def tls_issuer(self) -> pulumi.Output[str | None]:
        """Name of the cert-manager issuer (automatic TLS)."""
        return self._field("tlsIssuer")

    @cached_property
    def tls_secret_name(self) -> pulumi.Output[str | None]:
        """Name of the kubernetes.io/tls Secret (manual TLS)."""
        return self._field("tlsSecretName")


def _reveal(manual: ManualTls) -> str:
    return manual.private_key.get_secret_value() if manual.private_key else ""
