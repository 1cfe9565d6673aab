"""`MqListener`: one BrokerListener custom resource, and the TLS Secret it creates if asked to."""

from __future__ import annotations

from collections.abc import Mapping
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

    broker_listener: k8s.apiextensions.CustomResource
    tls_secret: k8s.core.v1.Secret | None
    listener_name: pulumi.Output[str]
    namespace: pulumi.Output[str]
    port: pulumi.Output[int]
    service_name: pulumi.Output[str]
    service_type: pulumi.Output[str]
    host: pulumi.Output[str]
    """In-cluster DNS name of the listener's Service."""
    tls_mode: pulumi.Output[str]
    """none, automatic, manual or keyVault."""
    tls_issuer: pulumi.Output[str | None]
    tls_secret_name: pulumi.Output[str | None]
    summary: pulumi.Output[dict[str, Any]]
    """All of the above as one map (what the stack exports per listener)."""

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

        self.tls_secret = None
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
        self.broker_listener = k8s.apiextensions.CustomResource(
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
        # Outputs resolve once the CR is registered, so consumers are ordered after it.
        known = self.broker_listener.urn.apply(lambda _: summary)
        self.summary = known
        self.listener_name = known.apply(lambda s: s["name"])
        self.namespace = known.apply(lambda s: s["namespace"])
        self.port = known.apply(lambda s: s["port"])
        self.service_name = known.apply(lambda s: s["serviceName"])
        self.service_type = known.apply(lambda s: s["serviceType"])
        self.host = known.apply(lambda s: s["host"])
        self.tls_mode = known.apply(lambda s: s["tlsMode"])
        self.tls_issuer = known.apply(lambda s: s["tlsIssuer"])
        self.tls_secret_name = known.apply(lambda s: s["tlsSecretName"])
        self.register_outputs({"summary": known})


def _reveal(manual: ManualTls) -> str:
    return manual.private_key.get_secret_value() if manual.private_key else ""
