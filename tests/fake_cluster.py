"""A small in-memory `Cluster` (components/cluster.py): the GETs the checks make, answered from
objects the test puts in, as the API server would lay them out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from components.cluster import ClusterError

MQ = "mq.iotoperations.azure.com/v1beta1"
GA = "mqttbroker.iotoperations.azure.com/v1"
CERT_MANAGER = "cert-manager.io/v1"
KINDS = {
    MQ: {
        "brokers": "Broker",
        "brokerlisteners": "BrokerListener",
        "brokerauthentications": "BrokerAuthentication",
        "brokerauthorizations": "BrokerAuthorization",
    },
    GA: {
        "brokers": "Broker",
        "brokerlisteners": "BrokerListener",
        "brokerauthentications": "BrokerAuthentication",
        "brokerauthorizations": "BrokerAuthorization",
    },
    CERT_MANAGER: {"issuers": "Issuer", "clusterissuers": "ClusterIssuer"},
}
COLLECTIONS = {"namespaces", "secrets", *(p for kinds in KINDS.values() for p in kinds)}


@dataclass
class FakeCluster:
    context: str = "fake"
    apis: set[str] = field(default_factory=lambda: {MQ, CERT_MANAGER})
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    secrets: dict[tuple[str, str], str] = field(default_factory=dict)
    forbidden: set[str] = field(default_factory=set)
    """Paths that answer 403."""
    requests: list[str] = field(default_factory=list)
    connected_with: tuple[str | None, str | None] | None = None
    """The kubeconfig and context the program asked for."""

    def get(self, path: str) -> dict[str, Any] | None:
        self.requests.append(path)
        if path in self.forbidden:
            raise ClusterError(f"the API server of context {self.context!r} answered 403")
        parts = path.strip("/").split("/")
        if parts[0] == "apis" and len(parts) == 3:
            group_version = "/".join(parts[1:])
            if group_version not in self.apis:
                return None
            plurals = KINDS[group_version]
            return {"resources": [{"name": p, "kind": k} for p, k in plurals.items()]}
        if parts[0] == "apis" and "/".join(parts[1:3]) not in self.apis:
            return None
        if parts[-1] in COLLECTIONS:
            return {"items": self._items(parts)}
        return self.objects.get(path)

    def secret_type(self, namespace: str, name: str) -> str | None:
        self.requests.append(f"/api/v1/namespaces/{namespace}/secrets/{name}")
        return self.secrets.get((namespace, name))

    def _items(self, parts: list[str]) -> list[dict[str, Any]]:
        def matches(stored: str) -> bool:
            candidate = stored.strip("/").split("/")[:-1]
            if candidate == parts:
                return True
            # A cluster-wide list (/apis/g/v/plural) holds the plural of every namespace.
            return (
                len(parts) == 4
                and len(candidate) == 6
                and candidate[:3] == parts[:3]
                and candidate[3] == "namespaces"
                and candidate[5] == parts[3]
            )

        return [obj for path, obj in self.objects.items() if matches(path)]

    # --- putting objects in --------------------------------------------------------------

    def add(self, path: str, obj: dict[str, Any] | None = None) -> FakeCluster:
        name = path.rsplit("/", 1)[-1]
        self.objects[path] = obj or {"metadata": {"name": name}}
        return self

    def namespace(self, name: str) -> FakeCluster:
        return self.add(f"/api/v1/namespaces/{name}")

    def broker(self, namespace: str, name: str = "broker", api: str = MQ) -> FakeCluster:
        return self.add(f"/apis/{api}/namespaces/{namespace}/brokers/{name}")

    def issuer(self, name: str, namespace: str | None = None) -> FakeCluster:
        where = f"namespaces/{namespace}/issuers" if namespace else "clusterissuers"
        return self.add(f"/apis/{CERT_MANAGER}/{where}/{name}")

    def listener(
        self,
        name: str,
        port: int,
        namespace: str = "azure-iot-operations",
        metadata: dict[str, Any] | None = None,
        **spec: Any,
    ) -> FakeCluster:
        spec = {"brokerRef": "broker", "port": port, **spec}
        meta = {"name": name, "namespace": namespace, **(metadata or {})}
        return self.add(
            f"/apis/{MQ}/namespaces/{namespace}/brokerlisteners/{name}",
            {"metadata": meta, "spec": spec},
        )

    def authentication(
        self, name: str, listeners: list[str], namespace: str = "azure-iot-operations"
    ) -> FakeCluster:
        return self.add(
            f"/apis/{MQ}/namespaces/{namespace}/brokerauthentications/{name}",
            {
                "metadata": {"name": name, "namespace": namespace},
                "spec": {
                    "listenerRef": listeners,
                    "authenticationMethods": [{"sat": {"audiences": ["aio-mq"]}}],
                },
            },
        )


def aio_install(context: str = "fake") -> FakeCluster:
    """What a fresh Azure IoT Operations (preview) install has, with cert-manager."""
    return (
        FakeCluster(context)
        .namespace("azure-iot-operations")
        .broker("azure-iot-operations")
        .listener(
            "listener",
            8883,
            serviceType="clusterIp",
            serviceName="aio-mq-dmqtt-frontend",
            authenticationEnabled=True,
            tls={"automatic": {"issuerRef": {"name": "mq-dmqtt-frontend"}}},
        )
        .authentication("authn", ["listener"])
        .issuer("mq-dmqtt-frontend", "azure-iot-operations")
    )


# --- GA (mqttbroker.iotoperations.azure.com/v1) ----------------------------------------------

GA_DEFAULT_PORT = {
    "port": 18883,
    "protocol": "Mqtt",
    "authenticationRef": "default",
    "tls": {
        "mode": "Automatic",
        "certManagerCertificateSpec": {
            "issuerRef": {
                "name": "azure-iot-operations-aio-certificate-issuer",
                "kind": "ClusterIssuer",
                "group": "cert-manager.io",
            },
            "privateKey": {"algorithm": "Ec256", "rotationPolicy": "Always"},
        },
    },
}


def ga_listener(
    fake: FakeCluster,
    name: str,
    *ports: dict[str, Any],
    namespace: str = "azure-iot-operations",
    metadata: dict[str, Any] | None = None,
    **spec: Any,
) -> FakeCluster:
    meta = {"name": name, "namespace": namespace, **(metadata or {})}
    return fake.add(
        f"/apis/{GA}/namespaces/{namespace}/brokerlisteners/{name}",
        {"metadata": meta, "spec": {"brokerRef": "default", "ports": list(ports), **spec}},
    )


def ga_authentication(
    fake: FakeCluster, name: str, *methods: str, namespace: str = "azure-iot-operations"
) -> FakeCluster:
    return fake.add(
        f"/apis/{GA}/namespaces/{namespace}/brokerauthentications/{name}",
        {
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"authenticationMethods": [{"method": m} for m in methods]},
        },
    )


def add_ga_install(fake: FakeCluster) -> FakeCluster:
    """`fake` with what a fresh Azure IoT Operations (GA) install adds, as the local cluster
    with every CRD set has beside the preview install."""
    fake.apis.add(GA)
    fake.namespace("azure-iot-operations").broker("azure-iot-operations", "default", GA)
    fake.issuer("azure-iot-operations-aio-certificate-issuer")
    ga_listener(fake, "default", GA_DEFAULT_PORT, serviceType="ClusterIp", serviceName="aio-broker")
    return ga_authentication(fake, "default", "ServiceAccountToken")


def aio_ga_install(context: str = "fake") -> FakeCluster:
    """What a fresh Azure IoT Operations (GA) install has, with cert-manager."""
    return add_ga_install(FakeCluster(context, apis={CERT_MANAGER}))
